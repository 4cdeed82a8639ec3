using Hangfire;
using Hangfire.States;

namespace TpcCma.Service.Jobs;

/// <summary>
/// Makes the job rows the source of truth for what should run. Every few seconds it finds jobs that nobody will run:
/// a queued job with no live Hangfire job (the process died between storing and enqueueing it), a running job whose
/// lease holder went silent (a killed worker), a job whose Hangfire job ended while the row did not. Each is handed
/// to Hangfire again under a new id (the old Hangfire job is deleted, so a late fetch of it does nothing) and the next
/// worker resumes it from its checkpoint. Runs on every node at once: the rows it acts on are locked with
/// <c>FOR UPDATE SKIP LOCKED</c>, so two reconcilers never hand over the same job.
/// </summary>
public sealed class JobReconciler(IDbContextFactory<TrainingDb> dbs, IBackgroundJobClient hangfire, LeaseSettings settings,
    TimeProvider time, ILogger<JobReconciler> log) : PeriodicReconciler("jobs", settings.ReconcileEvery, time, log)
{
    /// <summary>A job handed over this many times without ending is failed rather than started again.</summary>
    public const int MaxAttempts = 10;

    private const int Batch = 100;

    /// <returns>How many jobs were handed over, cancelled or failed.</returns>
    public override async Task<int> ReconcileOnceAsync(CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var now = Time.GetUtcNow();
        var enqueuedBefore = now - settings.EnqueueGrace;
        var silentSince = now - settings.DeadAfter;
        // Candidates: not ended, not held by a live lease, and with nothing in Hangfire that will run them. Silence is
        // counted from the database server's start at the earliest: while it was down no holder could heartbeat.
        var stranded = await db.Database.SqlQuery<StrandedJob>($"""
            SELECT t."Id" AS "Id", h.statename AS "HangfireState"
            FROM jobs t
            LEFT JOIN hangfire.job h ON h.id = CASE WHEN t."HangfireJobId" ~ '^[0-9]+$' THEN t."HangfireJobId"::bigint END
            LEFT JOIN hangfire.state s ON s.id = h.stateid
            WHERE t."Status" IN ('Queued', 'Running', 'Cancelling')
              AND (t."LeaseExpiresAt" IS NULL OR GREATEST(t."LeaseExpiresAt", pg_postmaster_start_time() + {settings.DeadAfter}) < {now})
              AND (t."Status" = 'Cancelling'
                OR (h.id IS NULL AND (t."Status" <> 'Queued' OR t."CreatedAt" < {enqueuedBefore}))
                OR h.statename IN ('Succeeded', 'Failed', 'Deleted')
                OR (h.statename = 'Processing' AND s.createdat < {silentSince}
                    AND NOT EXISTS (SELECT 1 FROM hangfire.jobqueue q WHERE q.jobid = h.id AND q.fetchedat IS NULL)))
            ORDER BY t."CreatedAt"
            LIMIT {Batch}
            FOR UPDATE OF t SKIP LOCKED
            """).ToListAsync(ct);
        if (stranded.Count == 0) return 0;

        var ids = stranded.Select(s => s.Id).ToList();
        var jobs = await db.Jobs.Where(j => ids.Contains(j.Id)).ToDictionaryAsync(j => j.Id, ct);
        var superseded = new List<string>();
        foreach (var row in stranded)
        {
            var job = jobs[row.Id];
            var hangfireIsOver = row.HangfireState is null or "Succeeded" or "Failed" or "Deleted";
            if (job.HangfireJobId is { } old && !hangfireIsOver) superseded.Add(old);
            string message;
            if (job.Status == JobStatus.Cancelling)
            {
                // Asked to stop while no live worker held it: nothing is left to stop.
                job.MarkCancelled(now);
                db.Events.Add(JobEvent.Status(job.Id, "cancelled", job.Step, now));
                message = "cancelled (no live worker held it)";
            }
            else if (job.Attempts >= MaxAttempts)
            {
                var reason = $"started {job.Attempts} times without ending; its last worker stopped ({Why(job, row)})";
                job.MarkFailed("stranded", reason, now);
                db.Events.Add(JobEvent.Status(job.Id, $"failed: {reason}", job.Step, now));
                message = "failed after too many attempts";
            }
            else
            {
                var why = Why(job, row);
                var id = job.Id;
                job.HandOver(hangfire.Create<TrainJob>(t => t.RunAsync(id, CancellationToken.None), new EnqueuedState(job.Queue)));
                db.Events.Add(new JobEvent { JobId = job.Id, Kind = JobEventKind.Requeued, Message = $"handed to the next worker: {why}", Step = job.Step, CreatedAt = now });
                message = $"requeued as Hangfire job {job.HangfireJobId} ({why})";
            }
            log.LogWarning("Job {JobId} was stranded: {Action}", job.Id, message);
        }
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        // After the commit: a Hangfire job deleted here cannot run again, even when a worker fetches it late.
        foreach (var old in superseded) hangfire.Delete(old);
        return stranded.Count;
    }

    private string Why(TrainingJob job, StrandedJob row) => (job.Status, row.HangfireState) switch
    {
        (_, _) when job.LeaseOwner is not null => $"{job.LeaseOwner} has been silent for over {settings.DeadAfter.TotalSeconds:0.#} s",
        (JobStatus.Queued, null) => "it was stored but never reached the queue",
        (_, null) => "its Hangfire job is gone",
        (_, "Processing") => "the worker that fetched it stopped before taking it",
        (_, var state) => $"its Hangfire job is {state} but the job did not end",
    };

    /// <summary>A row the candidate query returns.</summary>
    private sealed class StrandedJob
    {
        public Guid Id { get; set; }
        public string? HangfireState { get; set; }
    }
}
