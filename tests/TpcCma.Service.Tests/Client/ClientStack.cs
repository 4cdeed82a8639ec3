using TpcCma.Service.Tests.Infrastructure;

namespace TpcCma.Service.Tests.Client;

/// <summary>A deployment for the client tests: the stack, one worker process and an API process on a real port.</summary>
public sealed class ClientStack : IAsyncLifetime
{
    public ServiceStack Stack { get; } = new();
    public ServiceProcess Api { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string Key { get; private set; } = "";
    public string Dataset { get; private set; } = "";
    public string Model { get; private set; } = "";
    public string WorkFolder { get; } = Directory.CreateTempSubdirectory("tpccma-client-").FullName;

    public async Task InitializeAsync()
    {
        await Stack.InitializeAsync();
        Key = await Stack.CreateUserKeyAsync("pipeline");
        Http = Stack.Client(Key);
        Dataset = await Stack.RegisterShapesAsync(Http, count: 64);
        Model = await Stack.RegisterTinyModelAsync(Http);
        await Stack.StartWorkerAsync("node-client");
        Api = await LiveApi.StartAsync(Stack);
    }

    public async Task DisposeAsync()
    {
        if (Api is not null) await Api.DisposeAsync();
        await Stack.DisposeAsync();
        try { Directory.Delete(WorkFolder, recursive: true); } catch (IOException) { }
    }
}
