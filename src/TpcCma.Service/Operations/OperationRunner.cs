using System.Text.Json.Nodes;
using TpcCma.Service.Hosting;

namespace TpcCma.Service.Operations;

/// <summary>
/// Runs one operation on this worker: claims it, hands it to the handler of its kind, writes progress, problems and a
/// heartbeat about once a second, and records how it ended. Every way out is recorded: succeeded with the handler's
/// result; failed with the reason (then rethrown, so Hangfire shows it Failed too); handed back as queued when the
/// worker shuts down (Hangfire runs it again); left alone when the row was taken from this worker meanwhile.
/// </summary>
public sealed class OperationRunner(OperationStore store, IEnumerable<IOperationHandler> handlers, ServiceOptions options,
    LeaseSettings leases, OperationSettings settings, ILogger<OperationRunner> log)
{
    private static readonly TimeSpan WriteEvery = TimeSpan.FromSeconds(1);

    public async Task ExecuteAsync(Guid id, CancellationToken shutdown)
    {
        var node = options.EffectiveNodeName;
        using var logScope = log.BeginScope(new Dictionary<string, object> { ["OperationId"] = id, ["Node"] = node });
        if (!await store.ClaimAsync(id, node, leases.DeadAfter, shutdown)) return;   // ended, or a live worker runs it
        var operation = await store.FindAsync(id, shutdown) ?? throw new InvalidOperationException($"operation {id} vanished");
        var problems = new OperationProblems(settings.MaxProblems);
        var handler = handlers.FirstOrDefault(h => h.Kind == operation.Kind);
        if (handler is null)
        {
            await FinishAsync(() => store.FailAsync(id, node, $"this worker ({node}) has no handler for operations of kind '{operation.Kind}'", null, CancellationToken.None));
            throw new OperationFailedException($"no handler for operation kind '{operation.Kind}'");
        }

        var context = new OperationContext(id, operation.OwnerKeyId, JsonNode.Parse(operation.Input) as JsonObject ?? [], problems);
        using var lost = new CancellationTokenSource();
        using var work = CancellationTokenSource.CreateLinkedTokenSource(shutdown, lost.Token);
        var pump = PumpAsync(id, node, context, lost, work.Token);
        log.LogInformation("Operation {OperationId} ({Kind}) running on {Node}, attempt {Attempt}", id, operation.Kind, node, operation.Attempts);
        try
        {
            var result = await handler.RunAsync(context, work.Token);
            await StopAsync(work, pump);
            var (_, message) = context.Snapshot();
            if (!await FinishAsync(() => store.SucceedAsync(id, node, result.ToJsonString(), problems.ToJson(), message ?? "succeeded", context.Stores, CancellationToken.None)))
                log.LogWarning("Operation {OperationId} finished, but it was no longer this worker's (cancelled, or handed to another): nothing stored", id);
            else log.LogInformation("Operation {OperationId} succeeded", id);
        }
        catch (OperationCanceledException) when (work.IsCancellationRequested)
        {
            await StopAsync(work, pump);
            if (lost.IsCancellationRequested && !shutdown.IsCancellationRequested)
            {
                log.LogWarning("Operation {OperationId} was taken from this worker (cancelled, or handed to another); stopped", id);
                return;
            }
            await FinishAsync(() => store.HandBackAsync(id, node, CancellationToken.None));
            log.LogInformation("Operation {OperationId} handed back at shutdown", id);
            throw;   // Hangfire runs it again on the next worker
        }
        catch (Exception ex)
        {
            // Anything else fails it, including a cancellation that is not this operation's (an HTTP timeout inside a download).
            await StopAsync(work, pump);
            log.LogError(ex, "Operation {OperationId} failed", id);
            var reason = ex is OperationFailedException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            await FinishAsync(() => store.FailAsync(id, node, reason, problems.ToJson(), CancellationToken.None));
            throw new OperationFailedException(reason, ex);
        }
    }

    /// <summary>Progress, problems and the heartbeat, once a second; a row no longer held by this node stops the work.</summary>
    private async Task PumpAsync(Guid id, string node, OperationContext context, CancellationTokenSource lost, CancellationToken stop)
    {
        long writtenProblems = -1;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(WriteEvery, stop);
                var (progress, message) = context.Snapshot();
                var version = context.Problems.Version;
                var errors = version != writtenProblems ? context.Problems.ToJson() : null;
                if (!await store.HeartbeatAsync(id, node, progress, message, errors, stop)) { await lost.CancelAsync(); return; }
                writtenProblems = version;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning("Operation {OperationId}: progress not written ({Message}); retrying", id, ex.Message);   // the database may be restarting
            }
        }
    }

    private static async Task StopAsync(CancellationTokenSource work, Task pump)
    {
        await work.CancelAsync();
        await pump;
    }

    /// <summary>The final write, retried through a short database outage: an ended operation must not stay running.</summary>
    private async Task<bool> FinishAsync(Func<Task<bool>> write)
    {
        for (var attempt = 1; ; attempt++)
        {
            try { return await write(); }
            catch (Exception ex) when (attempt < 10 && ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                log.LogWarning("Recording an operation's outcome failed ({Message}); retrying", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)));
            }
        }
    }
}
