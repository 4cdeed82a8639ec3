using System.Diagnostics;
using Npgsql;
using TpcCma.Service.Hosting;
using TpcCma.Service.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>
/// PostgreSQL restarted under a running job, on a cluster of this class alone: the worker trains on, buffers its
/// progress and writes it once the server is back; no step is lost or doubled, the job runs once and succeeds.
/// </summary>
[TakesAbout(seconds: 50)]
public sealed class DatabaseRestartTests(ThrowawayPostgres postgres, ITestOutputHelper output) : IClassFixture<ThrowawayPostgres>, IAsyncLifetime
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(6);
    private readonly FaultDeployment deployment = new(postgres.ServerConnectionString);

    public Task InitializeAsync() => deployment.InitializeAsync();

    public Task DisposeAsync() => deployment.DisposeAsync();

    [Fact]
    public async Task Restart_MidRun_WorkerTrainsOn_AndEveryMetricStepIsStoredOnce()
    {
        const int steps = 150;
        var worker = await deployment.Stack.StartWorkerAsync("node-a");
        var id = await deployment.SubmitAsync(steps, checkpointEvery: 20);
        var beforeOutage = await FaultJobs.WaitForStepAsync(deployment.Client, id, 15);
        var checkpoints = new ArtifactPaths(deployment.Stack.ArtifactRoot).CheckpointDirectory(Guid.Parse(id));

        long trainedTo = 0;
        await RestartAsync(async () =>
        {
            // Down for the outage at least, and until the trainer has checkpointed 20 steps past where it was: it trains on.
            var clock = Stopwatch.StartNew();
            while ((clock.Elapsed < Outage || trainedTo < beforeOutage + 20) && clock.Elapsed < TimeSpan.FromSeconds(90))
            {
                if (Directory.Exists(checkpoints))
                    trainedTo = Directory.GetDirectories(checkpoints, "step_*").Select(d => long.Parse(Path.GetFileName(d)["step_".Length..])).DefaultIfEmpty(0).Max();
                await Task.Delay(100);
            }
        });
        output.WriteLine($"step {beforeOutage} when the server stopped, checkpoint of step {trainedTo} written while it was down");
        Assert.True(trainedTo >= beforeOutage + 20, $"no checkpoint 20 steps past step {beforeOutage} while the database was down:\n{worker.Output}");

        await AssertSucceededOnceAsync(id, steps, worker);
    }

    [Fact]
    public async Task ServerDown_WhenTheJobFinishes_ItsBufferedProgressAndOutcomeAreWrittenOnceItIsBack()
    {
        const int steps = 60;
        var worker = await deployment.Stack.StartWorkerAsync("node-a");
        var id = await deployment.SubmitAsync(steps, checkpointEvery: 20);
        await FaultJobs.WaitForStepAsync(deployment.Client, id, 10);
        var finalModel = Path.Combine(new ArtifactPaths(deployment.Stack.ArtifactRoot).JobDirectory(Guid.Parse(id)), "final", "model.safetensors");

        await RestartAsync(async () =>
        {
            // The rest of the run, its final checkpoint and model happen while the server is down.
            Assert.True(await WaitUntilAsync(() => File.Exists(finalModel), TimeSpan.FromSeconds(120)),
                $"the run did not finish while the database was down:\n{worker.Output}");
            // The worker now waits to store the rest of its progress and the outcome: seen as a retry after the run ended.
            var ended = worker.Output.Length;
            Assert.True(await WaitUntilAsync(() => worker.Output[ended..].Contains($"Writing progress of job {id} failed"), TimeSpan.FromSeconds(30)),
                $"the worker did not retry its last progress while the database was down:\n{worker.Output}");
        });

        await AssertSucceededOnceAsync(id, steps, worker);
    }

    [Fact]
    public async Task Restart_WhileTheWorkerIsIdle_TheNextJobRunsOnce()
    {
        const int steps = 20;
        var worker = await deployment.Stack.StartWorkerAsync("node-a");
        // Its pooled connections are open once its Hangfire server has announced itself; the restart breaks them all.
        Assert.True(await WaitUntilAsync(() => HangfireServerIsUpAsync("node-a"), TimeSpan.FromSeconds(30)), $"the worker's Hangfire server never started:\n{worker.Output}");
        await RestartAsync(() => Task.CompletedTask);
        var id = await deployment.SubmitAsync(steps, checkpointEvery: 10);
        var job = await FaultJobs.WaitForEndAsync(deployment.Client, id, TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", $"{job.ToJsonString()}\n{worker.Output}");
        Assert.Equal(1, job["attempts"]!.GetValue<int>());
        Assert.Equal(FaultJobs.AllSteps(steps), await FaultJobs.LossStepsAsync(deployment.Client, id));
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout) =>
        await WaitUntilAsync(() => Task.FromResult(condition()), timeout);

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < timeout; await Task.Delay(100))
            if (await condition()) return true;
        return await condition();
    }

    private async Task<bool> HangfireServerIsUpAsync(string node)
    {
        await using var connection = new NpgsqlConnection(deployment.Stack.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT count(*) FROM hangfire.server WHERE id LIKE @node", connection);
        query.Parameters.AddWithValue("node", node + ":%");
        return (long)(await query.ExecuteScalarAsync())! > 0;
    }

    /// <summary>Stops the server, runs <paramref name="whileDown"/>, and always starts it again.</summary>
    private async Task RestartAsync(Func<Task> whileDown)
    {
        var clock = Stopwatch.StartNew();
        await postgres.StopAsync();
        try { await whileDown(); }
        finally
        {
            await postgres.StartAsync();
            output.WriteLine($"database down for {clock.Elapsed.TotalSeconds:F1} s");
            NpgsqlConnection.ClearAllPools();   // the in-process API's pooled connections died with the server
        }
    }

    /// <summary>Succeeded on its first and only start, with every step's loss once, as Hangfire records it too.</summary>
    private async Task AssertSucceededOnceAsync(string id, int steps, ServiceProcess worker)
    {
        var job = await FaultJobs.WaitForEndAsync(deployment.Client, id, TimeSpan.FromSeconds(180));
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", $"{job.ToJsonString()}\n{worker.Output}");
        Assert.Equal(steps, job["step"]!.GetValue<long>());
        Assert.Equal(1, job["attempts"]!.GetValue<int>());
        var events = await FaultJobs.EventsAsync(deployment.Client, id);
        Assert.Equal(["queued", "running", "succeeded"], FaultJobs.Statuses(events));
        Assert.Empty(events.OfKind("resumed"));
        Assert.Equal(FaultJobs.AllSteps(steps), await FaultJobs.LossStepsAsync(deployment.Client, id));
        Assert.Contains($"Writing progress of job {id} failed", worker.Output);   // the worker did meet the outage
        Assert.Equal(("Succeeded", false), await FaultJobs.HangfireWhenAsync(deployment.Stack.ConnectionString, id, "Succeeded", TimeSpan.FromSeconds(30)));
    }
}
