using TpcCma.Service.Jobs;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>
/// A programming error in the worker's progress writer (armed at one step with <c>TPCCMA_FAULT</c>) is not retried
/// forever: the run stops, and the job fails with a reason that names the error, as Hangfire records too.
/// </summary>
public sealed class ProgressWriteFailureTests : IAsyncLifetime
{
    private const int Steps = 80;
    private readonly FaultDeployment deployment = new();

    public Task InitializeAsync() => deployment.InitializeAsync();

    public Task DisposeAsync() => deployment.DisposeAsync();

    [Fact]
    public async Task ProgrammingErrorWritingProgress_StopsTheRun_AndFailsTheJobNamingTheError()
    {
        var worker = await deployment.Stack.StartWorkerAsync("node-a",
            new Dictionary<string, string> { ["TPCCMA_FAULT"] = $"{JobProgressWriter.FaultPoint}@10" });
        var id = await deployment.SubmitAsync(Steps, checkpointEvery: 20);

        var job = await FaultJobs.WaitForEndAsync(deployment.Client, id, TimeSpan.FromSeconds(180));
        Assert.True(job["status"]!.GetValue<string>() == "failed", $"{job.ToJsonString()}\n{worker.Output}");
        Assert.Equal("progress_not_stored", job["error"]!["code"]!.GetValue<string>());
        var reason = job["error"]!["message"]!.GetValue<string>();
        Assert.Contains("InvalidOperationException", reason);
        Assert.Contains($"fault injected at {JobProgressWriter.FaultPoint}", reason);
        // Stopped, not trained to the end with its progress thrown away: nothing from the failed batch on is stored.
        Assert.True(job["step"]!.GetValue<long>() < 10, job.ToJsonString());
        Assert.True((await FaultJobs.LossStepsAsync(deployment.Client, id)).All(step => step < 10));
        var events = await FaultJobs.EventsAsync(deployment.Client, id);
        Assert.Equal(["queued", "running", "failed"], FaultJobs.Statuses(events));
        Assert.Equal("Failed", (await FaultJobs.HangfireWhenAsync(deployment.Stack.ConnectionString, id, "Failed", TimeSpan.FromSeconds(30))).State);
    }
}
