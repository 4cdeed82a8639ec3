using System.Diagnostics;
using TpcCma.Service.Hosting;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>
/// A worker told to stop (SIGTERM, as an orchestrator draining a node does) mid-run: it checkpoints the step it is
/// at, hands the job back and exits within Hangfire's shutdown timeout; the next worker resumes at that step.
/// </summary>
[TakesAbout(seconds: 45)]
public sealed class WorkerShutdownTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Steps = 60;
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(new HangfireSettings().ShutdownTimeoutSeconds);
    private readonly FaultDeployment deployment = new();

    public Task InitializeAsync() => deployment.InitializeAsync();

    public Task DisposeAsync() => deployment.DisposeAsync();

    [Fact]
    public async Task Sigterm_MidRun_CheckpointsThatStepAndHandsBack_NextWorkerResumesThere_WithContiguousMetrics()
    {
        var first = await deployment.Stack.StartWorkerAsync("node-a");
        // Periodic checkpoints every 20 steps: the resume must use the one written on the way out, not an older one.
        var id = await deployment.SubmitAsync(Steps, checkpointEvery: 20);
        var atSignal = await FaultJobs.WaitForStepAsync(deployment.Client, id, 30);

        var clock = Stopwatch.StartNew();
        first.Terminate();
        Assert.True(await first.WaitForExitAsync(ShutdownTimeout), $"the worker still runs {ShutdownTimeout} after SIGTERM:\n{first.Output}");
        output.WriteLine($"SIGTERM at step >= {atSignal}; the worker exited with {first.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("handed back at shutdown", first.Output);

        // Handed back: still running (no failure, no cancel) and back in Hangfire's queue, with a checkpoint of the step the signal landed on.
        var handedBack = (await FaultJobs.TryGetAsync(deployment.Client, id))!;
        Assert.Equal("running", handedBack["status"]!.GetValue<string>());
        Assert.True((await FaultJobs.HangfireAsync(deployment.Stack.ConnectionString, id)).Queued, "the job is not back in Hangfire's queue");
        var events = await FaultJobs.EventsAsync(deployment.Client, id);
        Assert.Equal(["queued", "running"], FaultJobs.Statuses(events));
        // The trainer stops at a step boundary and checkpoints it (unless a periodic checkpoint of that very step exists).
        var exitStep = Assert.Single(events.OfKind("handed_back"))["step"]!.GetValue<long>();
        Assert.Empty(events.OfKind("cancelled"));   // a worker going away is not a user's cancel
        Assert.True(exitStep >= atSignal, $"the run stopped at step {exitStep}, before the step {atSignal} seen when SIGTERM was sent");
        output.WriteLine($"stopped and checkpointed at step {exitStep}");
        var recorded = (await deployment.Client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!.Select(c => c!["step"]!.GetValue<long>()).ToList();
        Assert.Equal(exitStep, recorded.Max());
        Assert.Contains(recorded, step => step < exitStep);   // an older checkpoint exists, and is not the one resumed from

        clock.Restart();
        await deployment.Stack.StartWorkerAsync("node-b");
        var job = await FaultJobs.WaitForEndAsync(deployment.Client, id, TimeSpan.FromSeconds(180));
        output.WriteLine($"node-b finished the job {clock.Elapsed.TotalSeconds:F1} s after it started");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal(2, job["attempts"]!.GetValue<int>());

        events = await FaultJobs.EventsAsync(deployment.Client, id);
        Assert.Equal(["queued", "running", "running", "succeeded"], FaultJobs.Statuses(events));
        Assert.Equal(exitStep, Assert.Single(events.OfKind("resumed"))["step"]!.GetValue<long>());
        Assert.Equal(FaultJobs.AllSteps(Steps), await FaultJobs.LossStepsAsync(deployment.Client, id));
        Assert.Equal(("Succeeded", false), await FaultJobs.HangfireWhenAsync(deployment.Stack.ConnectionString, id, "Succeeded", TimeSpan.FromSeconds(30)));
    }
}
