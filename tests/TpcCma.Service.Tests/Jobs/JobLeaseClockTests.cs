using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TpcCma.Service.Jobs;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>
/// Leases on a fake clock over a real PostgreSQL: a second start waits out the holder's lease in clock time, not in
/// seconds of the test's life. A silent holder loses the job once its lease has expired; a live one keeps it.
/// </summary>
public sealed class JobLeaseClockTests : IAsyncLifetime
{
    private static readonly LeaseSettings Settings = new() { HeartbeatSeconds = 5, DeadAfterSeconds = 30 };
    private readonly TestDatabase database = new();
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);
    private IDbContextFactory<TrainingDb> dbs = null!;
    private Guid jobId;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        dbs = new PooledDbContextFactory<TrainingDb>(new DbContextOptionsBuilder<TrainingDb>().UseNpgsql(database.ConnectionString).Options);
        await using var db = await dbs.CreateDbContextAsync();
        await db.Database.MigrateAsync();
        var job = TrainingJob.Create(new JobDraft("leased", "align", "{}", "cpu", 10, 1, null, null), null, clock.GetUtcNow());
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        jobId = job.Id;
    }

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task SecondStart_AfterTheHolderFellSilent_TakesTheLeaseOnceItExpiresOnTheClock()
    {
        var start = clock.GetUtcNow();
        await using (var db = await dbs.CreateDbContextAsync())
        {
            // Held by a node that died: taken, never renewed, never released.
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            Assert.True(job.TryAcquireLease("node-a", start, Settings.DeadAfter));
            await db.SaveChangesAsync();
        }

        var real = Stopwatch.StartNew();
        await using var lease = await RunClockUntilAsync(Leases().AcquireAsync(jobId, "node-b", CancellationToken.None));
        Assert.NotNull(lease);
        var row = await RowAsync();
        Assert.Equal("node-b", row.LeaseOwner);
        Assert.Equal(2, row.Attempts);
        Assert.True(row.LeaseExpiresAt >= start + Settings.DeadAfter + Settings.DeadAfter, $"taken at {row.LeaseExpiresAt - Settings.DeadAfter}, before the lease of {start} expired");
        Assert.True(real.Elapsed < TimeSpan.FromSeconds(20), $"waited {real.Elapsed} of real time for a 30 s lease on a fake clock");
    }

    [Fact]
    public async Task SecondStart_WhileTheHolderRenews_IsADuplicate_AndTheHolderKeepsTheJob()
    {
        var leases = Leases();
        await using var holder = await leases.AcquireAsync(jobId, "node-a", CancellationToken.None);
        Assert.NotNull(holder);

        var duplicate = await RunClockUntilAsync(Leases().AcquireAsync(jobId, "node-b", CancellationToken.None));
        Assert.Null(duplicate);
        Assert.False(holder.Lost.IsCancellationRequested);
        var row = await RowAsync();
        Assert.Equal("node-a", row.LeaseOwner);
        Assert.True(row.LeaseExpiresAt > clock.GetUtcNow(), "the holder's heartbeats did not move its lease on the clock");
        Assert.Equal(1, row.Attempts);
    }

    private JobLeases Leases() => new(dbs, Settings, clock, NullLogger<JobLeases>.Instance);

    /// <summary>Moves the clock a second at a time, giving the database work between ticks a moment, until <paramref name="task"/> ends.</summary>
    private async Task<T> RunClockUntilAsync<T>(Task<T> task)
    {
        for (var ticks = 0; !task.IsCompleted && ticks < 600; ticks++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(task, Task.Delay(25));
        }
        return await task;
    }

    private async Task<TrainingJob> RowAsync()
    {
        await using var db = await dbs.CreateDbContextAsync();
        return await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId);
    }
}
