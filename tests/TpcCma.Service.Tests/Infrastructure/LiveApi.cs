namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>
/// An API node of a <see cref="ServiceStack"/> as its own process on a real port: what a browser or the
/// <c>tpccma</c> client talks to (the in-process test server has no socket).
/// </summary>
public static class LiveApi
{
    public static Task<ServiceProcess> StartAsync(ServiceStack stack) =>
        ServiceProcess.StartAsync("api", stack.ConnectionString, stack.ArtifactRoot, new Dictionary<string, string>
        {
            ["Service:DataRoot"] = stack.DataRoot,
            ["Auth:AdminKey"] = ServiceStack.AdminKey,
            ["Auth:KeyCacheSeconds"] = "1",
        });
}
