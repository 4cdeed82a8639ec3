using System.Diagnostics;
using System.Net.Http.Headers;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TpcCma.Service.Hosting;
using TpcCma.Service.Jobs;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>
/// Crashes in the windows where a job used to be stranded: the API killed between storing a job and enqueueing it,
/// the only worker killed mid-step and restarted, one of two workers killed, a worker killed while writing a
/// checkpoint, and a stray cancellation from a dependency. Workers keep Hangfire's default invisibility timeout
/// (5 minutes), so every recovery under a minute here is the reconciler's and the leases', not Hangfire's. Every node
/// runs with <see cref="ServiceStack.QuickLeases"/>, so that a dead holder's lease lapses in seconds.
/// </summary>
[TakesAbout(seconds: 260)]
public sealed class StrandedJobTests(ITestOutputHelper output) : IAsyncLifetime
{
    // 80 steps: the phase boundaries then fall on the periodic checkpoints (every 20), which the torn-checkpoint test relies on.
    private const int Steps = 80;
    /// <summary>Hangfire's default: a dead worker's job would wait this long if only Hangfire looked after it.</summary>
    private static readonly Dictionary<string, string> DefaultInvisibility = new() { ["Hangfire:InvisibilityTimeoutMinutes"] = "5" };
    private static readonly LeaseSettings Leases = ServiceStack.QuickLeaseSettings;
    private readonly FaultDeployment deployment = new(nodeSettings: ServiceStack.QuickLeases);

    public Task InitializeAsync() => deployment.InitializeAsync();

    public Task DisposeAsync() => deployment.DisposeAsync();

    [Fact]
    public async Task ApiKilledAfterStoringTheJob_BeforeEnqueueingIt_TheJobIsEnqueuedAndRuns()
    {
        var api = await deployment.Stack.StartApiAsync(settings: new Dictionary<string, string> { ["TPCCMA_FAULT"] = "job-stored" });
        using var http = new HttpClient { BaseAddress = new Uri(api.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", deployment.Key);
        // The process dies inside the request: the client sees the connection drop, never an answer.
        await Assert.ThrowsAsync<HttpRequestException>(() => FaultJobs.SubmitAsync(http, deployment.Model, deployment.Dataset, Steps, checkpointEvery: 20));
        Assert.True(await api.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the API process did not die at the fault point");

        var (id, hangfireId) = await SingleJobAsync();
        Assert.Null(hangfireId);   // stored, never enqueued: before the reconciler, queued for good

        await deployment.Stack.StartWorkerAsync("node-a", DefaultInvisibility);
        var job = await FaultJobs.WaitForEndAsync(deployment.Client, id, TimeSpan.FromSeconds(240));
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        var events = await FaultJobs.EventsAsync(deployment.Client, id);
        Assert.Contains("never reached the queue", Assert.Single(events.OfKind("requeued"))["message"]!.GetValue<string>());
        Assert.Equal(["queued", "running", "succeeded"], FaultJobs.Statuses(events));
        Assert.Equal(FaultJobs.AllSteps(Steps), await FaultJobs.LossStepsAsync(deployment.Client, id));
        Assert.Equal(("Succeeded", false), await FaultJobs.HangfireWhenAsync(deployment.Stack.ConnectionString, id, "Succeeded", TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task OnlyWorkerKilledMidStep_AndRestarted_TrainsAgainWithinAMinute_WithEveryStepOnce()
    {
        var first = await deployment.Stack.StartWorkerAsync("node-a", DefaultInvisibility);
        var id = await deployment.SubmitAsync(Steps, checkpointEvery: 20);
        await FaultJobs.WaitForStepAsync(deployment.Client, id, 30);
        var killedAt = DateTimeOffset.UtcNow;
        first.Kill();   // SIGKILL: no checkpoint on the way out, no lease release
        await deployment.Stack.StartWorkerAsync("node-b", DefaultInvisibility);

        var recovery = await WaitForTrainingAgainAsync(id, killedAt);
        output.WriteLine($"only worker SIGKILLed and restarted: handed over after {recovery.HandedOver.TotalSeconds:F1} s, training again after {recovery.Training.TotalSeconds:F1} s; {Load()}");
        await AssertSucceededWithEveryStepOnceAsync(id);
    }

    [Fact]
    public async Task OneOfTwoWorkersKilledMidStep_TheOtherResumesWithinAMinute_WithoutARestart()
    {
        var workers = new Dictionary<string, ServiceProcess>
        {
            ["node-a"] = await deployment.Stack.StartWorkerAsync("node-a", DefaultInvisibility),
            ["node-b"] = await deployment.Stack.StartWorkerAsync("node-b", DefaultInvisibility),
        };
        var id = await deployment.SubmitAsync(Steps, checkpointEvery: 20);
        await FaultJobs.WaitForStepAsync(deployment.Client, id, 30);
        var holder = await LeaseOwnerAsync(id);
        var killedAt = DateTimeOffset.UtcNow;
        workers[holder].Kill();

        var recovery = await WaitForTrainingAgainAsync(id, killedAt);
        output.WriteLine($"{holder} of two workers SIGKILLed: handed over after {recovery.HandedOver.TotalSeconds:F1} s, training again after {recovery.Training.TotalSeconds:F1} s; {Load()}");
        await AssertSucceededWithEveryStepOnceAsync(id);
        var starts = (await FaultJobs.EventsAsync(deployment.Client, id)).OfKind("status").Select(e => e["message"]!.GetValue<string>()).Where(m => m.StartsWith("running", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, starts.Count);
        Assert.Contains($"running on {workers.Keys.Single(k => k != holder)}", starts[1]);
    }

    [Fact]
    public async Task WorkerKilledWhileWritingACheckpoint_TheNextWorkerResumesFromTheOneBefore_WithEveryStepOnce()
    {
        var first = await deployment.Stack.StartWorkerAsync("node-a", new Dictionary<string, string>(DefaultInvisibility) { ["TPCCMA_FAULT"] = "checkpoint-write@40" });
        var id = await deployment.SubmitAsync(Steps, checkpointEvery: 20);
        Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(180)), "the worker did not die while writing the checkpoint of step 40");
        // The torn checkpoint: weights written under the temporary name, never renamed, latest.json still at step 20.
        var checkpoints = Path.Combine(deployment.Stack.ArtifactRoot, "jobs", Guid.Parse(id).ToString("N"), "checkpoints");
        Assert.True(Directory.Exists(Path.Combine(checkpoints, ".step_000040.tmp")), "no torn checkpoint was left behind");
        Assert.Contains("step_000020", await File.ReadAllTextAsync(Path.Combine(checkpoints, "latest.json")));

        await deployment.Stack.StartWorkerAsync("node-b", DefaultInvisibility);
        await AssertSucceededWithEveryStepOnceAsync(id);
        var events = await FaultJobs.EventsAsync(deployment.Client, id);
        Assert.Equal(20, Assert.Single(events.OfKind("resumed"))["step"]!.GetValue<long>());
        Assert.False(Directory.Exists(Path.Combine(checkpoints, ".step_000040.tmp")), "the torn checkpoint was not replaced");
        var recorded = (await deployment.Client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!.Select(c => c!["step"]!.GetValue<long>()).ToList();
        Assert.Equal(recorded.Distinct().Count(), recorded.Count);
        Assert.Contains(40L, recorded);
    }

    [Fact]
    public async Task StrayCancellationFromADependency_FailsTheJobWithAReason_AndHangfireShowsFailed()
    {
        await deployment.Stack.StartWorkerAsync("node-a", new Dictionary<string, string>(DefaultInvisibility) { ["TPCCMA_FAULT"] = "dependency-cancel@15" });
        var id = await deployment.SubmitAsync(Steps, checkpointEvery: 20);
        var job = await FaultJobs.WaitForEndAsync(deployment.Client, id, TimeSpan.FromSeconds(180));
        Assert.True(job["status"]!.GetValue<string>() == "failed", job.ToJsonString());
        Assert.Equal("timeout", job["error"]!["code"]!.GetValue<string>());
        Assert.Contains("HttpClient.Timeout", job["error"]!["message"]!.GetValue<string>());
        Assert.Null(await LeaseOwnerOrNullAsync(id));
        Assert.Equal(FaultJobs.AllSteps(14), await FaultJobs.LossStepsAsync(deployment.Client, id));
        Assert.Equal("Failed", (await FaultJobs.HangfireWhenAsync(deployment.Stack.ConnectionString, id, "Failed", TimeSpan.FromSeconds(30))).State);
        // The reconciler leaves an ended job alone: no second start, no requeue (a pass of its own here, not a wait for the nodes').
        Assert.Equal(0, await Reconciler().ReconcileOnceAsync(CancellationToken.None));
        var events = await FaultJobs.EventsAsync(deployment.Client, id);
        Assert.Empty(events.OfKind("requeued"));
        Assert.Equal(["queued", "running", "failed"], FaultJobs.Statuses(events));
    }

    [Fact]
    public async Task ReconcilersOnSeveralNodesAtOnce_EnqueueEachStrandedJobExactlyOnce()
    {
        const int Jobs = 12;
        for (var i = 0; i < Jobs; i++) await deployment.SubmitAsync(Steps, checkpointEvery: 20);
        // As after as many crashes between storing a job and enqueueing it: no Hangfire job, stored a minute ago.
        await ExecuteAsync("""
            UPDATE jobs SET "HangfireJobId" = NULL, "CreatedAt" = now() - interval '1 minute';
            DELETE FROM hangfire.jobqueue; DELETE FROM hangfire.job;
            """);

        // Three reconcilers race (and the in-process API's own may join in); no worker takes the jobs meanwhile.
        var reconcilers = Enumerable.Range(0, 3).Select(_ => Reconciler()).ToList();
        var handled = await Task.WhenAll(reconcilers.Select(r => Task.Run(() => r.ReconcileOnceAsync(CancellationToken.None))));
        output.WriteLine($"handed over by each reconciler: {string.Join(", ", handled)}");

        await using var connection = new NpgsqlConnection(deployment.Stack.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM hangfire.job),
                   (SELECT count(DISTINCT t."HangfireJobId") FROM jobs t JOIN hangfire.job h ON h.id::text = t."HangfireJobId" AND h.statename = 'Enqueued'),
                   (SELECT count(*) FROM job_events WHERE "Kind" = 'requeued'),
                   (SELECT count(DISTINCT "JobId") FROM job_events WHERE "Kind" = 'requeued')
            """, connection);
        await using var row = await query.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal((Jobs, Jobs, Jobs, Jobs), (row.GetInt64(0), row.GetInt64(1), row.GetInt64(2), row.GetInt64(3)));
    }

    /// <summary>A reconciler like every node's, on the in-process API's database and Hangfire client.</summary>
    private JobReconciler Reconciler()
    {
        var services = deployment.Stack.Api.Services;
        return new JobReconciler(services.GetRequiredService<IDbContextFactory<TrainingDb>>(), services.GetRequiredService<IBackgroundJobClient>(),
            new LeaseSettings(), TimeProvider.System, NullLogger<JobReconciler>.Instance);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(deployment.Stack.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private sealed record Recovery(TimeSpan HandedOver, TimeSpan Training);

    /// <summary>
    /// From the kill to the reconciler's hand-over (its event) and to the first step trained after the resume. The
    /// hand-over is bounded by the lease's silence plus a reconcile period; training again adds a worker's fetch and
    /// the model's load.
    /// </summary>
    private async Task<Recovery> WaitForTrainingAgainAsync(string id, DateTimeOffset killedAt)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (DateTime.UtcNow < deadline)
        {
            var events = await FaultJobs.EventsAsync(deployment.Client, id);
            var requeued = events.OfKind("requeued").FirstOrDefault();
            var resumed = events.OfKind("resumed").FirstOrDefault();
            if (requeued is not null && resumed is not null && await FaultJobs.TryGetAsync(deployment.Client, id) is { } job
                && job["step"]!.GetValue<long>() > resumed["step"]!.GetValue<long>())
            {
                var handedOver = requeued["created_at"]!.GetValue<DateTimeOffset>() - killedAt;
                var training = DateTimeOffset.UtcNow - killedAt;
                var bound = Leases.DeadAfter + Leases.ReconcileEvery + TimeSpan.FromSeconds(10);
                Assert.True(handedOver < bound, $"handed over {handedOver.TotalSeconds:F1} s after the kill (lease {Leases.DeadAfterSeconds} s + reconcile {Leases.ReconcileEverySeconds} s); {Load()}");
                Assert.True(training < TimeSpan.FromSeconds(60), $"training again only {training.TotalSeconds:F1} s after the kill; {Load()}");
                return new Recovery(handedOver, training);
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"job {id} did not train again within 180 s of the kill");
    }

    private async Task AssertSucceededWithEveryStepOnceAsync(string id)
    {
        var job = await FaultJobs.WaitForEndAsync(deployment.Client, id, TimeSpan.FromSeconds(240));
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal(2, job["attempts"]!.GetValue<int>());
        Assert.Equal(FaultJobs.AllSteps(Steps), await FaultJobs.LossStepsAsync(deployment.Client, id));
        Assert.Equal(("Succeeded", false), await FaultJobs.HangfireWhenAsync(deployment.Stack.ConnectionString, id, "Succeeded", TimeSpan.FromSeconds(30)));
    }

    private async Task<(string Id, string? HangfireId)> SingleJobAsync()
    {
        await using var connection = new NpgsqlConnection(deployment.Stack.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("""SELECT "Id", "HangfireJobId" FROM jobs""", connection);
        await using var row = await query.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync(), "the job was not stored");
        var job = (row.GetGuid(0).ToString(), row.IsDBNull(1) ? null : row.GetString(1));
        Assert.False(await row.ReadAsync(), "more than one job was stored");
        return job;
    }

    private async Task<string> LeaseOwnerAsync(string id) =>
        await LeaseOwnerOrNullAsync(id) ?? throw new InvalidOperationException($"job {id} has no lease holder");

    private async Task<string?> LeaseOwnerOrNullAsync(string id)
    {
        await using var connection = new NpgsqlConnection(deployment.Stack.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("""SELECT "LeaseOwner" FROM jobs WHERE "Id" = @id""", connection);
        query.Parameters.AddWithValue("id", Guid.Parse(id));
        return await query.ExecuteScalarAsync() as string;
    }

    private static string Load() => "load average " + File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
