using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace TpcCma.Service.Jobs;

/// <summary>
/// Retries a short database step of a job's start or end while PostgreSQL is unreachable. Hangfire does not retry a
/// training job (a failed start would leave it queued for good), so the start waits out a database restart.
/// </summary>
public static class DatabaseRetry
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    public static async Task<T> RunAsync<T>(Func<Task<T>> step, ILogger log, Guid jobId, CancellationToken ct)
    {
        var giveUpAt = DateTimeOffset.UtcNow + MaxWait;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step();
            }
            catch (Exception ex) when (IsTransient(ex) && DateTimeOffset.UtcNow < giveUpAt && !ct.IsCancellationRequested)
            {
                var delay = TimeSpan.FromSeconds(Math.Min(10, attempt));
                log.LogWarning("A database step of job {JobId} failed (attempt {Attempt}), retrying in {Delay}: {Message}", jobId, attempt, delay, ex.Message);
                NpgsqlConnection.ClearAllPools();
                await Task.Delay(delay, ct);
            }
        }
    }

    public static Task RunAsync(Func<Task> step, ILogger log, Guid jobId, CancellationToken ct) =>
        RunAsync(async () => { await step(); return true; }, log, jobId, ct);

    /// <summary>Connection loss, a server shutting down, a timeout: worth another try; anything else is not.</summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        NpgsqlException npgsql => npgsql.IsTransient,
        TimeoutException => true,
        DbUpdateException { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };
}
