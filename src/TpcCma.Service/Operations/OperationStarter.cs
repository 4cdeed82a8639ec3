using System.Text.Json.Nodes;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Operations;

/// <summary>
/// Starts operations from a request: stores the row, then hands its id to Hangfire on the operations queue. A crash
/// between the two leaves a queued operation that the <see cref="OperationReconciler"/> enqueues. With a subject, a
/// request for something already in the works gets the operation in flight instead of a second one.
/// </summary>
public sealed class OperationStarter(IBackgroundJobClient hangfire, OperationSettings settings, TimeProvider time)
{
    /// <summary>Stores and enqueues an operation of <paramref name="kind"/> (<paramref name="input"/>: the handler's arguments, never shown to clients).</summary>
    public async Task<Operation> StartAsync(TrainingDb db, string kind, Guid? ownerKeyId, JsonObject input, string? subject, CancellationToken ct)
    {
        if (subject is not null && await FindActiveAsync(db, subject, ct) is { } inFlight) return inFlight;
        var operation = Operation.Create(kind, ownerKeyId, input.ToJsonString(), settings.Queue, subject, time.GetUtcNow());
        db.Operations.Add(operation);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (subject is not null && ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Another request stored one for the same subject a moment earlier: share it.
            db.Entry(operation).State = EntityState.Detached;
            return await FindActiveAsync(db, subject, ct) ?? throw new InvalidOperationException($"the operation on {subject} ended while it was being shared");
        }
        // From here on a client that hangs up no longer matters: a stored operation also gets enqueued.
        var id = operation.Id;
        operation.AttachHangfireId(hangfire.Create<OperationJob>(j => j.RunAsync(id, CancellationToken.None), new EnqueuedState(operation.Queue)));
        await db.SaveChangesAsync(CancellationToken.None);
        return operation;
    }

    /// <summary>The queued or running operation on <paramref name="subject"/>, if any.</summary>
    public static Task<Operation?> FindActiveAsync(TrainingDb db, string subject, CancellationToken ct) =>
        db.Operations.AsNoTracking().FirstOrDefaultAsync(o => o.Subject == subject && (o.State == OperationState.Queued || o.State == OperationState.Running), ct);
}
