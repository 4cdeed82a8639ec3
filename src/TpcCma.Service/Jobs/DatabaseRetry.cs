using Microsoft.EntityFrameworkCore;
using Npgsql;
using Polly;
using Polly.Retry;

namespace TpcCma.Service.Jobs;

/// <summary>How many times, and how far apart, a step is tried again: linear backoff from <see cref="Delay"/>, capped at <see cref="MaxDelay"/>.</summary>
public sealed record RetryBudget(int Attempts, TimeSpan Delay, TimeSpan MaxDelay)
{
    /// <summary>1 s, 2 s, ... 10 s, then every 10 s: 64 retries wait out about ten minutes of database outage.</summary>
    public static RetryBudget DatabaseOutage { get; } = new(64, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
}

/// <summary>
/// Resilience pipelines for a job's database steps. Hangfire does not retry a training job (a failed start would leave it
/// queued for good), so its start, its progress and its outcome wait out a database restart; only errors that another try
/// can cure are retried, and only a bounded number of times. A programming error fails at once.
/// </summary>
public static class DatabaseRetry
{
    /// <summary>Retries <see cref="IsTransient"/> errors within <paramref name="budget"/>, logging each and dropping pooled connections that died with the server.</summary>
    public static ResiliencePipeline ForOutages(RetryBudget budget, TimeProvider time, ILogger log, string what, Action? onRetry = null) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                MaxRetryAttempts = budget.Attempts,
                BackoffType = DelayBackoffType.Linear,
                Delay = budget.Delay,
                MaxDelay = budget.MaxDelay,
                UseJitter = false,
                OnRetry = args =>
                {
                    onRetry?.Invoke();
                    log.LogWarning("{What} failed (attempt {Attempt}), retrying in {Delay}: {Message}",
                        what, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message);
                    NpgsqlConnection.ClearAllPools();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    /// <summary>
    /// Re-runs a read-modify-save on a fresh row when another writer changed it meanwhile (progress, the lease's
    /// heartbeat, a cancel): each try must read the row again. At most <paramref name="attempts"/> tries in all.
    /// </summary>
    public static ResiliencePipeline ForConflicts(int attempts) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<DbUpdateConcurrencyException>(),
                MaxRetryAttempts = attempts - 1,
                BackoffType = DelayBackoffType.Constant,
                Delay = TimeSpan.Zero,
                UseJitter = false,
            })
            .Build();

    /// <summary>Runs a short step of a job's start or end through <see cref="ForOutages"/> with the <see cref="RetryBudget.DatabaseOutage"/> budget.</summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> step, TimeProvider time, ILogger log, Guid jobId, CancellationToken ct) =>
        await ForOutages(RetryBudget.DatabaseOutage, time, log, $"A database step of job {jobId}").ExecuteAsync(async _ => await step(), ct);

    public static Task RunAsync(Func<Task> step, TimeProvider time, ILogger log, Guid jobId, CancellationToken ct) =>
        RunAsync(async () => { await step(); return true; }, time, log, jobId, ct);

    /// <summary>
    /// Connection loss, a server shutting down or refusing connections for now, a timeout: worth another try; anything
    /// else is not. EF Core wraps what Npgsql calls transient in an <see cref="InvalidOperationException"/> and save
    /// errors in a <see cref="DbUpdateException"/>: those count by their cause, never by their type.
    /// </summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        // The server going down (57P01-57P03: shutting down, starting up) or the connection failing (class 08).
        PostgresException server => server.IsTransient || server.SqlState is "57P01" or "57P02" or "57P03" || server.SqlState.StartsWith("08", StringComparison.Ordinal),
        // Raised by the client, not the server: the connection could not be opened, broke or timed out.
        NpgsqlException client => client.IsTransient || client.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException,
        TimeoutException => true,
        DbUpdateException { InnerException: { } inner } => IsTransient(inner),
        InvalidOperationException { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };
}
