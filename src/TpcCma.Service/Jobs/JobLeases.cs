using Microsoft.EntityFrameworkCore;
using TpcCma.Service.Hosting;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Jobs;

/// <summary>
/// Leases on job rows. Hangfire may start the same job twice (a fetch after an invisibility timeout, a requeue
/// at shutdown, a manual retry): the lease makes the second start wait until the first holder's lease lapses,
/// and do nothing if the holder is still alive (it keeps renewing). A holder silent for
/// <see cref="LeaseSettings.DeadAfter"/> is dead; <see cref="JobReconciler"/> then hands its job to another worker.
/// </summary>
public sealed class JobLeases(IDbContextFactory<TrainingDb> dbs, LeaseSettings settings, TimeProvider time, ILogger<JobLeases> log)
{
    private TimeSpan Duration => settings.DeadAfter;
    private TimeSpan RenewEvery => settings.Heartbeat;
    private ILogger Log { get; } = log;
    private TimeProvider Time { get; } = time;

    /// <summary>A held lease; renewed in the background until disposed. <see cref="Lost"/> fires if another node took it over.</summary>
    public sealed class Lease : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly CancellationTokenSource lost = new();
        private readonly Task renewal;
        private readonly JobLeases owner;
        private readonly Guid jobId;
        private readonly string node;

        internal Lease(JobLeases owner, Guid jobId, string node)
        {
            (this.owner, this.jobId, this.node) = (owner, jobId, node);
            renewal = Task.Run(RenewAsync);
        }

        public CancellationToken Lost => lost.Token;

        private async Task RenewAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(owner.RenewEvery, owner.Time, stop.Token);
                    if (!await owner.TryRenewAsync(jobId, node, stop.Token))
                    {
                        owner.Log.LogWarning("Job {JobId} is no longer leased to {Node}: it was handed to another worker", jobId, node);
                        await lost.CancelAsync();
                        return;
                    }
                }
                catch (OperationCanceledException) { return; }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or DbUpdateException or InvalidOperationException)
                {
                    owner.Log.LogWarning("Renewing the lease on job {JobId} failed: {Message}", jobId, ex.Message);   // retried next period
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await renewal;
            try { await owner.ReleaseAsync(jobId, node); }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or DbUpdateException) { /* it lapses on its own */ }
            stop.Dispose();
            lost.Dispose();
        }
    }

    /// <returns>The lease, or null when the job has ended or a live worker holds it.</returns>
    public async Task<Lease?> AcquireAsync(Guid jobId, string node, CancellationToken ct)
    {
        DateTimeOffset? seenExpiry = null;
        while (true)
        {
            if (await TryTakeAsync(jobId, node, ct)) return new Lease(this, jobId, node);
            await using var db = await dbs.CreateDbContextAsync(ct);
            var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
            if (job is null || job.Status.IsTerminal() || job.LeaseExpiresAt is null) return null;
            if (seenExpiry is not null && job.LeaseExpiresAt > seenExpiry)
            {
                Log.LogInformation("Job {JobId} is running on {Holder}; this start is a duplicate", jobId, job.LeaseOwner);
                return null;
            }
            seenExpiry = job.LeaseExpiresAt;
            var wait = job.LeaseExpiresAt.Value - Time.GetUtcNow() + TimeSpan.FromSeconds(1);
            Log.LogInformation("Job {JobId} is leased by {Holder} until {Expiry}; waiting to see whether it is alive", jobId, job.LeaseOwner, job.LeaseExpiresAt);
            await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(100), Time, ct);
        }
    }

    private async Task<bool> TryTakeAsync(Guid jobId, string node, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await using var db = await dbs.CreateDbContextAsync(ct);
            var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId, ct);
            if (job is null) return false;
            var now = Time.GetUtcNow();
            if (job.Status == JobStatus.Cancelling && (job.LeaseOwner is null || job.LeaseExpiresAt <= now))
            {
                // Asked to stop while no live worker held it (the last one died): nothing to stop, it is cancelled.
                job.MarkCancelled(now);
                db.Events.Add(JobEvent.Status(jobId, "cancelled", job.Step, now));
                await db.SaveChangesAsync(ct);
                return false;
            }
            if (!job.TryAcquireLease(node, now, Duration)) return false;
            try
            {
                await db.SaveChangesAsync(ct);
                return true;
            }
            catch (DbUpdateConcurrencyException) { }   // the row changed under us (progress, cancel): read it again
        }
        return false;
    }

    /// <summary>
    /// Extends a lease this node holds. Unlike taking, it fails once the lease is gone (the reconciler revoked it after a
    /// silence, or the job ended): a holder that was declared dead must stop, not take the job back.
    /// </summary>
    private async Task<bool> TryRenewAsync(Guid jobId, string node, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await using var db = await dbs.CreateDbContextAsync(ct);
            var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId, ct);
            if (job is null || !job.TryRenewLease(node, Time.GetUtcNow(), Duration)) return false;
            try
            {
                await db.SaveChangesAsync(ct);
                return true;
            }
            catch (DbUpdateConcurrencyException) { }
        }
        return true;   // the row is busy with progress writes: renew next period, well within the silence that counts as dead
    }

    private async Task ReleaseAsync(Guid jobId, string node)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await using var db = await dbs.CreateDbContextAsync();
            var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId);
            if (job is null) return;
            job.ReleaseLease(node);
            try { await db.SaveChangesAsync(); return; }
            catch (DbUpdateConcurrencyException) { }
        }
    }
}
