using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TpcCma.Service.Hosting;
using TpcCma.Service.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>
/// A worker told to stop (SIGTERM, as an orchestrator draining a node does) mid-run: it checkpoints the step it is
/// at, hands the job back and exits within Hangfire's shutdown timeout; the next worker resumes at that step.
/// </summary>
public sealed class WorkerShutdownTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Steps = 100;
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(new HangfireSettings().ShutdownTimeoutSeconds);
    private readonly ServiceStack stack = new();
    private HttpClient client = null!;
    private string dataset = "";
    private string model = "";

    public async Task InitializeAsync()
    {
        await stack.InitializeAsync();
        client = stack.Client(await stack.CreateUserKeyAsync("shutdown"));
        dataset = await stack.RegisterShapesAsync(client, count: 64);
        model = await stack.RegisterTinyModelAsync(client);
    }

    public Task DisposeAsync() => stack.DisposeAsync();

    [Fact]
    public async Task Sigterm_MidRun_CheckpointsThatStepAndHandsBack_NextWorkerResumesThere_WithContiguousMetrics()
    {
        var first = await stack.StartWorkerAsync("node-a");
        // Periodic checkpoints every 20 steps: the resume must use the one written on the way out, not an older one.
        var id = await FaultJobs.SubmitAsync(client, model, dataset, Steps, checkpointEvery: 20);
        var atSignal = await FaultJobs.WaitForStepAsync(client, id, 30);

        var clock = Stopwatch.StartNew();
        first.Terminate();
        Assert.True(await first.WaitForExitAsync(ShutdownTimeout), $"the worker still runs {ShutdownTimeout} after SIGTERM:\n{first.Output}");
        output.WriteLine($"SIGTERM at step >= {atSignal}; the worker exited with {first.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("handed back at shutdown", first.Output);

        // Handed back: still running (no failure, no cancel), with a checkpoint of the step the signal landed on.
        var handedBack = (await FaultJobs.TryGetAsync(client, id))!;
        Assert.Equal("running", handedBack["status"]!.GetValue<string>());
        var events = await FaultJobs.EventsAsync(client, id);
        Assert.Equal(["queued", "running"], FaultJobs.Statuses(events));
        // The trainer stops at a step boundary and checkpoints it (unless a periodic checkpoint of that very step exists).
        var exitStep = Assert.Single(events.OfKind("cancelled"))["step"]!.GetValue<long>();
        Assert.True(exitStep >= atSignal, $"the run stopped at step {exitStep}, before the step {atSignal} seen when SIGTERM was sent");
        var recorded = (await client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!.Select(c => c!["step"]!.GetValue<long>()).ToList();
        Assert.Equal(exitStep, recorded.Max());
        Assert.Contains(recorded, step => step < exitStep);   // an older checkpoint exists, and is not the one resumed from

        clock.Restart();
        await stack.StartWorkerAsync("node-b");
        var job = await ServiceStack.WaitForStatusAsync(client, id, TimeSpan.FromSeconds(180), "succeeded", "failed", "cancelled");
        output.WriteLine($"node-b finished the job {clock.Elapsed.TotalSeconds:F1} s after it started");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal(2, job["attempts"]!.GetValue<int>());

        events = await FaultJobs.EventsAsync(client, id);
        Assert.Equal(["queued", "running", "running", "succeeded"], FaultJobs.Statuses(events));
        Assert.Equal(exitStep, Assert.Single(events.OfKind("resumed"))["step"]!.GetValue<long>());
        Assert.Equal(FaultJobs.AllSteps(Steps), await FaultJobs.LossStepsAsync(client, id));
    }
}
