using Microsoft.EntityFrameworkCore;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Jobs;

/// <summary>
/// Leases on job rows. Hangfire may start the same job twice (a fetch after an invisibility timeout, a requeue
/// at shutdown, a manual retry): the lease makes the second start wait until the first holder's lease lapses,
/// and do nothing if the holder is still alive (it keeps renewing).
/// </summary>
public sealed class JobLeases(IDbContextFactory<TrainingDb> dbs, ILogger<JobLeases> log)
{
    public static TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(30);
    private static TimeSpan RenewEvery => Duration / 3;
    private ILogger Log { get; } = log;

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
                    await Task.Delay(RenewEvery, stop.Token);
                    if (!await owner.TryTakeAsync(jobId, node, stop.Token)) { await lost.CancelAsync(); return; }
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
            var wait = job.LeaseExpiresAt.Value - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
            Log.LogInformation("Job {JobId} is leased by {Holder} until {Expiry}; waiting to see whether it is alive", jobId, job.LeaseOwner, job.LeaseExpiresAt);
            await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(100), ct);
        }
    }

    private async Task<bool> TryTakeAsync(Guid jobId, string node, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await using var db = await dbs.CreateDbContextAsync(ct);
            var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId, ct);
            if (job is null) return false;
            if (job.Status == JobStatus.Cancelling && (job.LeaseOwner is null || job.LeaseExpiresAt <= DateTimeOffset.UtcNow))
            {
                // Asked to stop while no live worker held it (the last one died): nothing to stop, it is cancelled.
                job.MarkCancelled(DateTimeOffset.UtcNow);
                db.Events.Add(new JobEvent { JobId = jobId, Kind = "status", Message = "cancelled", Step = job.Step, CreatedAt = DateTimeOffset.UtcNow });
                await db.SaveChangesAsync(ct);
                return false;
            }
            if (!job.TryAcquireLease(node, DateTimeOffset.UtcNow, Duration)) return false;
            try
            {
                await db.SaveChangesAsync(ct);
                return true;
            }
            catch (DbUpdateConcurrencyException) { }   // the row changed under us (progress, cancel): read it again
        }
        return false;
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
