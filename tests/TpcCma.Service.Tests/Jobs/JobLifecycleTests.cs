using System.Net;
using TpcCma.Service.Tests.Reliability;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>
/// Real jobs interrupted while they run, by a user or by a worker's death, on worker processes separate from the API.
/// What a job that runs to its end shows is in <see cref="FinishedAlignJobTests"/>.
/// </summary>
[TakesAbout(seconds: 65)]
public sealed class JobLifecycleTests() : UserDeploymentTests(new UserDeployment("lifecycle", shapes: 80, nodeSettings: ServiceStack.QuickLeases))
{
    private Task<string> SubmitAsync(int steps, int checkpointEvery) => Deployment.SubmitAsync("tiny-align", new
    {
        kind = "align", alpha_target = 0.5, steps, batch_size = 16, lr = 1e-4, checkpoint_every = checkpointEvery, log_every = 1, seed = 11,
        eval = new { enabled = false },
    });

    [Fact]
    public async Task CancelRunningJob_StopsLongBeforeTheEnd_AndCheckpointsTheStepItStoppedAt()
    {
        await Stack.StartWorkerAsync("node-a");
        var id = await SubmitAsync(steps: 5000, checkpointEvery: 1000);
        await FaultJobs.WaitForStepAsync(Client, id, 5);
        var cancel = await Client.PostAsync($"/v1/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var job = await ServiceStack.WaitForStatusAsync(Client, id, TimeSpan.FromSeconds(30), "cancelled", "failed", "succeeded");
        Assert.Equal("cancelled", job["status"]!.GetValue<string>());
        // No scheduled checkpoint falls before step 1000: the one kept was written by the cancellation, at the
        // step the run stopped at.
        var stoppedAt = job["step"]!.GetValue<long>();
        Assert.InRange(stoppedAt, 5, 999);
        var checkpoints = (await Client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!;
        Assert.Contains(checkpoints, c => c!["step"]!.GetValue<long>() == stoppedAt);
        Assert.Equal(HttpStatusCode.Conflict, (await Client.PostAsync($"/v1/jobs/{id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task WorkerKilledMidRun_JobResumesOnAnotherWorker_WithContiguousMetrics()
    {
        const int steps = 60;
        var first = await Stack.StartWorkerAsync("node-a");
        var id = await SubmitAsync(steps, checkpointEvery: 10);
        await FaultJobs.WaitForStepAsync(Client, id, 25);
        first.Kill();   // SIGKILL: no checkpoint on the way out, no lease release
        await Stack.StartWorkerAsync("node-b");
        var job = await ServiceStack.WaitForStatusAsync(Client, id, TimeSpan.FromSeconds(300), "succeeded", "failed");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.True(job["attempts"]!.GetValue<int>() >= 2);

        Assert.Equal(FaultJobs.AllSteps(steps), await FaultJobs.LossStepsAsync(Client, id));
        Assert.NotEmpty((await FaultJobs.EventsAsync(Client, id)).OfKind("resumed"));
    }
}
