using TpcCma.Service.Tests.Infrastructure;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>What every fault test starts from: a stack (on the shared server unless told another), a user's key and client, the tiny model and a dataset.</summary>
/// <param name="postgresServer">Another PostgreSQL server for the stack's database (e.g. a <see cref="ThrowawayPostgres"/>).</param>
public sealed class FaultDeployment(string? postgresServer = null) : IAsyncLifetime
{
    public ServiceStack Stack { get; } = new(postgresServer: postgresServer);
    /// <summary>An in-process client with the user's key.</summary>
    public HttpClient Client { get; private set; } = null!;
    public string Key { get; private set; } = "";
    public string Dataset { get; private set; } = "";
    public string Model { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Stack.InitializeAsync();
        Key = await Stack.CreateUserKeyAsync("faults");
        Client = Stack.Client(Key);
        Dataset = await Stack.RegisterShapesAsync(Client, count: 64);
        Model = await Stack.RegisterTinyModelAsync(Client);
    }

    public Task DisposeAsync() => Stack.DisposeAsync();

    /// <summary>The fault tests' job (<see cref="FaultJobs.SubmitAsync"/>) on this deployment's model and dataset.</summary>
    public Task<string> SubmitAsync(int steps, int checkpointEvery) => FaultJobs.SubmitAsync(Client, Model, Dataset, steps, checkpointEvery);
}
