using System.Data.Common;
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TpcCma.Service.Jobs;
using TpcCma.Service.Persistence;
using TpcCma.Service.Tests.Infrastructure;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>
/// The progress writer against a real PostgreSQL whose connections fail on demand: a transient error is retried within
/// the budget and nothing is lost; past the budget, or on any other error, the writer breaks (no endless loop) and
/// says why, and disposing it returns at once.
/// </summary>
public sealed class JobProgressWriterTests : IAsyncLifetime
{
    private static readonly RetryBudget Quick = new(3, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5));
    private readonly TestDatabase database = new();
    private readonly FailingConnections faults = new();
    private IDbContextFactory<TrainingDb> dbs = null!;
    private Guid jobId;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        var options = new DbContextOptionsBuilder<TrainingDb>().UseNpgsql(database.ConnectionString).AddInterceptors(faults).Options;
        dbs = new PooledDbContextFactory<TrainingDb>(options);
        await using var db = await dbs.CreateDbContextAsync();
        await db.Database.MigrateAsync();
        var job = TrainingJob.Create(new JobDraft("progress", "align", "{}", "cpu", 10, 1, null, null), null, DateTimeOffset.UtcNow);
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        jobId = job.Id;
    }

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task NonTransientError_BreaksTheWriterAtOnce_WithTheError_AndDisposeReturnsPromptly()
    {
        faults.FailNext(int.MaxValue, () => new InvalidOperationException("a programming error"));
        // The default budget: ten minutes of retries for an outage, none for this.
        var writer = new JobProgressWriter(dbs, jobId, NullLogger.Instance, TimeProvider.System);
        writer.Post(new JobProgressWriter.Metrics(1, new Dictionary<string, double> { ["loss"] = 1.5 }));

        var clock = Stopwatch.StartNew();
        await DisposeWithinAsync(writer, TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"disposing took {clock.Elapsed}");
        Assert.Equal("a programming error", Assert.IsType<InvalidOperationException>(writer.Failure).Message);
        Assert.True(writer.Broken.IsCancellationRequested);
        Assert.Equal(1, faults.Failed);   // tried once, never again
        Assert.Equal(0, writer.Written);
        Assert.Equal(0, await MetricCountAsync());
    }

    [Fact]
    public async Task TransientErrors_AreRetriedABoundedNumberOfTimes_ThenTheWriterBreaks()
    {
        faults.FailNext(int.MaxValue, ConnectionRefused);
        var writer = new JobProgressWriter(dbs, jobId, NullLogger.Instance, TimeProvider.System, Quick);
        writer.Post(new JobProgressWriter.Metrics(1, new Dictionary<string, double> { ["loss"] = 1.5 }));

        await DisposeWithinAsync(writer, TimeSpan.FromSeconds(10));
        Assert.Equal(1 + Quick.Attempts, faults.Failed);   // the first try and the budget's retries
        Assert.NotNull(writer.Failure);
        Assert.True(DatabaseRetry.IsTransient(writer.Failure), $"{writer.Failure}");
        Assert.True(writer.Broken.IsCancellationRequested);
        Assert.Equal(0, await MetricCountAsync());
    }

    [Fact]
    public async Task TransientErrors_WithinTheBudget_AreRetried_AndEveryItemIsStoredOnce()
    {
        faults.FailNext(Quick.Attempts, ConnectionRefused);
        var writer = new JobProgressWriter(dbs, jobId, NullLogger.Instance, TimeProvider.System, Quick);
        for (var step = 1; step <= 3; step++) writer.Post(new JobProgressWriter.Metrics(step, new Dictionary<string, double> { ["loss"] = step }));
        writer.Post(new JobProgressWriter.Event(JobEventKind.Checkpoint, 3, "checkpoint at step 3", null));

        await DisposeWithinAsync(writer, TimeSpan.FromSeconds(10));
        Assert.Null(writer.Failure);
        Assert.False(writer.Broken.IsCancellationRequested);
        Assert.Equal(Quick.Attempts, faults.Failed);
        Assert.Equal(4, writer.Written);
        Assert.Equal(3, await MetricCountAsync());
        await using var db = await dbs.CreateDbContextAsync();
        Assert.Equal(JobEventKind.Checkpoint, (await db.Events.SingleAsync(e => e.JobId == jobId)).Kind);
    }

    [Theory]
    [InlineData("57P01", true)]    // the server shutting down
    [InlineData("57P03", true)]    // the server starting up
    [InlineData("40001", true)]    // a serialization failure
    [InlineData("42P01", false)]   // a missing table: a bug, not an outage
    [InlineData("23505", false)]   // a unique violation
    public void IsTransient_ServerErrors_ByTheirState(string sqlState, bool transient) =>
        Assert.Equal(transient, DatabaseRetry.IsTransient(new PostgresException("m", "FATAL", "FATAL", sqlState)));

    [Fact]
    public void IsTransient_CountsWrappedErrorsByTheirCause_NeverByTheirType()
    {
        Assert.True(DatabaseRetry.IsTransient(ConnectionRefused()));
        Assert.True(DatabaseRetry.IsTransient(new InvalidOperationException("likely a transient failure", ConnectionRefused())));
        Assert.True(DatabaseRetry.IsTransient(new DbUpdateException("save failed", new TimeoutException())));
        Assert.False(DatabaseRetry.IsTransient(new InvalidOperationException("a programming error")));
        Assert.False(DatabaseRetry.IsTransient(new DbUpdateException("save failed", new PostgresException("m", "ERROR", "ERROR", "23505"))));
        Assert.False(DatabaseRetry.IsTransient(new NullReferenceException()));
    }

    private static NpgsqlException ConnectionRefused() =>
        new("Failed to connect to 127.0.0.1:55432", new SocketException((int)SocketError.ConnectionRefused));

    private static async Task DisposeWithinAsync(JobProgressWriter writer, TimeSpan limit)
    {
        var dispose = writer.DisposeAsync().AsTask();
        Assert.True(await Task.WhenAny(dispose, Task.Delay(limit)) == dispose, $"DisposeAsync did not return within {limit}");
        await dispose;
    }

    private async Task<int> MetricCountAsync()
    {
        await using var db = await dbs.CreateDbContextAsync();
        faults.FailNext(0, ConnectionRefused);
        return await db.Metrics.CountAsync(m => m.JobId == jobId);
    }

    /// <summary>Makes the next N connection openings throw the given error before they reach the server; counts them.</summary>
    private sealed class FailingConnections : DbConnectionInterceptor
    {
        private int remaining;
        private Func<Exception> error = () => new InvalidOperationException("no error armed");
        private int failed;

        public int Failed => Volatile.Read(ref failed);

        public void FailNext(int count, Func<Exception> next) => (remaining, error) = (count, next);

        public override ValueTask<InterceptionResult> ConnectionOpeningAsync(DbConnection connection, ConnectionEventData eventData,
            InterceptionResult result, CancellationToken cancellationToken)
        {
            if (Interlocked.Decrement(ref remaining) < 0)
            {
                Interlocked.Exchange(ref remaining, 0);
                return ValueTask.FromResult(result);
            }
            Interlocked.Increment(ref failed);
            throw error();
        }
    }
}
