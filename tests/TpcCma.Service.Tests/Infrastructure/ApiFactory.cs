using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>The service in-process over real PostgreSQL, in the given mode (api by default: no worker here).</summary>
public sealed class ApiFactory(string connectionString, string mode = "api", string? artifactRoot = null) : WebApplicationFactory<Program>
{
    public string ArtifactRoot { get; } = artifactRoot ?? Directory.CreateTempSubdirectory("tpccma-artifacts-").FullName;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Service:Mode", mode);
        builder.UseSetting("ConnectionStrings:Jobs", connectionString);
        builder.UseSetting("Service:ArtifactRoot", ArtifactRoot);
    }
}
