using Hangfire;
using Hangfire.States;
using TpcCma.Service.Jobs;

namespace TpcCma.Service.Operations;

/// <summary>
/// Keeps operations moving when a process dies, the way <see cref="JobReconciler"/> does for jobs: a queued
/// operation with nothing in Hangfire to run it (the API died between storing and enqueueing it, or its Hangfire job
/// ended without it), and a running one whose worker stopped heartbeating, go to Hangfire again under a new job.
/// One started too often without ending is failed. Safe on every node at once (<c>FOR UPDATE SKIP LOCKED</c>).
/// </summary>
public sealed class OperationReconciler(IDbContextFactory<TrainingDb> dbs, IBackgroundJobClient hangfire, LeaseSettings leases,
    OperationSettings settings, TimeProvider time, ILogger<OperationReconciler> log)
    : PeriodicReconciler("operations", leases.ReconcileEvery, time, log)
{
    private const int Batch = 100;

    /// <returns>How many operations were enqueued again or failed.</returns>
    public override async Task<int> ReconcileOnceAsync(CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var now = Time.GetUtcNow();
        var enqueuedBefore = now - leases.EnqueueGrace;
        var silentSince = now - leases.DeadAfter;
        // Silence is counted from the database server's start at the earliest: while it was down no worker could heartbeat.
        var stranded = await db.Database.SqlQuery<StrandedOperation>($"""
            SELECT o."Id" AS "Id", h.statename AS "HangfireState"
            FROM operations o
            LEFT JOIN hangfire.job h ON h.id = CASE WHEN o."HangfireJobId" ~ '^[0-9]+$' THEN o."HangfireJobId"::bigint END
            WHERE (o."State" = 'queued' AND o."CreatedAt" < {enqueuedBefore} AND (h.id IS NULL OR h.statename IN ('Succeeded', 'Failed', 'Deleted')))
               OR (o."State" = 'running' AND GREATEST(COALESCE(o."HeartbeatAt", o."CreatedAt"), pg_postmaster_start_time()) < {silentSince})
            ORDER BY o."CreatedAt"
            LIMIT {Batch}
            FOR UPDATE OF o SKIP LOCKED
            """).ToListAsync(ct);
        if (stranded.Count == 0) return 0;

        var ids = stranded.Select(s => s.Id).ToList();
        var operations = await db.Operations.Where(o => ids.Contains(o.Id)).ToDictionaryAsync(o => o.Id, ct);
        var superseded = new List<string>();
        foreach (var row in stranded)
        {
            var operation = operations[row.Id];
            var why = operation.State == OperationState.Running
                ? $"{operation.Node} has been silent for over {leases.DeadAfter.TotalSeconds:0.#} s"
                : row.HangfireState is null ? "it was stored but never reached the queue" : $"its Hangfire job is {row.HangfireState}";
            if (operation.HangfireJobId is { } old && row.HangfireState is not ("Succeeded" or "Failed" or "Deleted")) superseded.Add(old);
            if (operation.Attempts >= settings.MaxAttempts)
            {
                operation.MarkFailed($"started {operation.Attempts} times without ending; the last time {why}", now);
                log.LogWarning("Operation {OperationId} failed: started too often", operation.Id);
                continue;
            }
            var id = operation.Id;
            operation.HandOver(hangfire.Create<OperationJob>(j => j.RunAsync(id, CancellationToken.None), new EnqueuedState(operation.Queue)), why);
            log.LogWarning("Operation {OperationId} was stranded ({Why}); enqueued again as Hangfire job {HangfireJobId}", id, why, operation.HangfireJobId);
        }
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        // After the commit: a Hangfire job deleted here cannot run again, even when a worker fetches it late.
        foreach (var old in superseded) hangfire.Delete(old);
        return stranded.Count;
    }

    /// <summary>A row the candidate query returns.</summary>
    private sealed class StrandedOperation
    {
        public Guid Id { get; set; }
        public string? HangfireState { get; set; }
    }
}
