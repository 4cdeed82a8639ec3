using Microsoft.EntityFrameworkCore;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Operations;

/// <summary>
/// A worker's changes to an operation row, each one conditional SQL update: it applies only while the row is in the
/// state (and held by the node) the worker believes, so a worker that lost its operation (cancelled, or handed to
/// another worker after it went silent) changes nothing, and an ended operation never changes again.
/// </summary>
public sealed class OperationStore(IDbContextFactory<TrainingDb> dbs, TimeProvider time)
{
    /// <summary>
    /// Takes the operation for <paramref name="node"/>: a queued one, or a running one whose holder has been silent
    /// for <paramref name="deadAfter"/>. False when it ended, or another live worker runs it (a duplicate start).
    /// </summary>
    public async Task<bool> ClaimAsync(Guid id, string node, TimeSpan deadAfter, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var silentSince = now - deadAfter;
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.Operations
            .Where(o => o.Id == id && (o.State == OperationState.Queued
                || (o.State == OperationState.Running && (o.HeartbeatAt == null || o.HeartbeatAt < silentSince))))
            .ExecuteUpdateAsync(s => s
                .SetProperty(o => o.State, OperationState.Running)
                .SetProperty(o => o.Node, node)
                .SetProperty(o => o.HeartbeatAt, (DateTimeOffset?)now)
                .SetProperty(o => o.StartedAt, o => o.StartedAt ?? (DateTimeOffset?)now)
                .SetProperty(o => o.Attempts, o => o.Attempts + 1)
                .SetProperty(o => o.Message, $"running on {node}"), ct) == 1;
    }

    public async Task<Operation?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.Operations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, ct);
    }

    /// <summary>Heartbeat with the latest progress; false when <paramref name="node"/> no longer runs the operation.</summary>
    public async Task<bool> HeartbeatAsync(Guid id, string node, double progress, string? message, string? errors, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await Held(db, id, node).ExecuteUpdateAsync(s => s
            .SetProperty(o => o.HeartbeatAt, (DateTimeOffset?)now)
            .SetProperty(o => o.Progress, progress)
            .SetProperty(o => o.Message, o => message ?? o.Message)
            .SetProperty(o => o.Errors, o => errors ?? o.Errors), ct) == 1;
    }

    /// <summary>
    /// Records the success and stores the handler's rows (<paramref name="stores"/>) in one transaction: the conditional
    /// update locks the row, so a cancel arriving meanwhile waits and then finds it ended; one that came first leaves
    /// nothing to update, and nothing is stored.
    /// </summary>
    public async Task<bool> SucceedAsync(Guid id, string node, string result, string? errors, string message,
        IReadOnlyList<Action<TrainingDb>> stores, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var held = await Held(db, id, node).ExecuteUpdateAsync(s => s
            .SetProperty(o => o.State, OperationState.Succeeded)
            .SetProperty(o => o.Progress, 1.0)
            .SetProperty(o => o.Result, result)
            .SetProperty(o => o.Errors, errors)
            .SetProperty(o => o.Message, message)
            .SetProperty(o => o.FinishedAt, (DateTimeOffset?)now)
            .SetProperty(o => o.Node, (string?)null), ct) == 1;
        if (!held) return false;
        foreach (var store in stores) store(db);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>Cancels a queued or running operation; false when it has ended. Its worker notices at its next heartbeat.</summary>
    public static async Task<bool> CancelAsync(TrainingDb db, Guid id, DateTimeOffset now, CancellationToken ct)
    {
        return await db.Operations.Where(o => o.Id == id && (o.State == OperationState.Queued || o.State == OperationState.Running))
            .ExecuteUpdateAsync(s => s
                .SetProperty(o => o.State, OperationState.Cancelled)
                .SetProperty(o => o.Message, "cancelled")
                .SetProperty(o => o.FinishedAt, (DateTimeOffset?)now)
                .SetProperty(o => o.Node, (string?)null), ct) == 1;
    }

    public async Task<bool> FailAsync(Guid id, string node, string reason, string? errors, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await Held(db, id, node).ExecuteUpdateAsync(s => s
            .SetProperty(o => o.State, OperationState.Failed)
            .SetProperty(o => o.Errors, errors)
            .SetProperty(o => o.Message, Truncate(reason))
            .SetProperty(o => o.FinishedAt, (DateTimeOffset?)now)
            .SetProperty(o => o.Node, (string?)null), ct) == 1;
    }

    /// <summary>A worker shutting down gives the operation back: queued again, for the next worker to start over.</summary>
    public async Task<bool> HandBackAsync(Guid id, string node, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await Held(db, id, node).ExecuteUpdateAsync(s => s
            .SetProperty(o => o.State, OperationState.Queued)
            .SetProperty(o => o.Node, (string?)null)
            .SetProperty(o => o.HeartbeatAt, (DateTimeOffset?)null)
            .SetProperty(o => o.Message, $"handed back: {node} shut down"), ct) == 1;
    }

    private static IQueryable<Operation> Held(TrainingDb db, Guid id, string node) =>
        db.Operations.Where(o => o.Id == id && o.State == OperationState.Running && o.Node == node);

    /// <summary>The message column holds 2000 characters; a longer reason keeps its start, which names what failed.</summary>
    public static string Truncate(string text) => text.Length <= 2000 ? text : text[..1997] + "...";
}
