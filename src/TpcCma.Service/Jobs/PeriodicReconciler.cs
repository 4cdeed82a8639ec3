namespace TpcCma.Service.Jobs;

/// <summary>
/// Runs <see cref="ReconcileOnceAsync"/> every <paramref name="period"/> for the life of the host. A failed pass is
/// logged and the next period tries again: the database restarting (any of the errors a dropped connection gives),
/// Hangfire's schema not created yet, or a bug; none of them may stop the host, whose other work goes on.
/// </summary>
/// <param name="what">What is reconciled, for the log ("jobs", "operations").</param>
/// <param name="period">Time between passes.</param>
/// <param name="time">The clock of the passes and of the periods between them.</param>
/// <param name="log">Where failed passes are reported.</param>
public abstract class PeriodicReconciler(string what, TimeSpan period, TimeProvider time, ILogger log) : BackgroundService
{
    /// <summary>The clock of the passes and of the periods between them.</summary>
    protected TimeProvider Time { get; } = time;

    /// <returns>How many rows were handed over, cancelled or failed.</returns>
    public abstract Task<int> ReconcileOnceAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(period, Time);
        do
        {
            try
            {
                await ReconcileOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex)
            {
                if (DatabaseRetry.IsTransient(ex) || ex is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
                    log.LogWarning("Reconciling {What} failed, retrying in {Period}: {Message}", what, period, ex.Message);
                else
                    log.LogError(ex, "Reconciling {What} failed, retrying in {Period}", what, period);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
