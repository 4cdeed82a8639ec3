namespace TpcCma.Service.Tests.Reliability;

/// <summary>What every fault test starts from: a user's deployment (on the shared server unless told another) that submits the fault tests' job.</summary>
/// <param name="postgresServer">Another PostgreSQL server for the stack's database (e.g. a <see cref="ThrowawayPostgres"/>).</param>
/// <param name="nodeSettings">Settings of every node (e.g. <see cref="ServiceStack.QuickLeases"/>).</param>
public sealed class FaultDeployment(string? postgresServer = null, IReadOnlyDictionary<string, string>? nodeSettings = null)
    : UserDeployment("faults", shapes: 64, postgresServer: postgresServer, nodeSettings: nodeSettings)
{
    /// <summary>The fault tests' job (<see cref="FaultJobs.SubmitAsync"/>) on this deployment's model and dataset.</summary>
    public Task<string> SubmitAsync(int steps, int checkpointEvery) => FaultJobs.SubmitAsync(Client, Model, Dataset, steps, checkpointEvery);
}
