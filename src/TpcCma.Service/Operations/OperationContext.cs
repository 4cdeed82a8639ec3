using System.Text.Json.Nodes;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Operations;

/// <summary>
/// What a handler gets besides its cancellation token: the operation's id, owner and arguments, and where to report
/// progress and problems. Reports are kept in memory and written by the runner about once a second with its heartbeat,
/// so a handler may report as often as it likes.
/// </summary>
public sealed class OperationContext(Guid operationId, Guid? ownerKeyId, JsonObject input, OperationProblems problems)
{
    private readonly Lock gate = new();
    private double progress;
    private string? message;
    private readonly List<Action<TrainingDb>> stores = [];

    public Guid OperationId { get; } = operationId;
    public Guid? OwnerKeyId { get; } = ownerKeyId;
    public JsonObject Input { get; } = input;
    public OperationProblems Problems { get; } = problems;

    /// <summary>Progress 0..1 (clamped; it never goes back) and what is happening now.</summary>
    public void Report(double fraction, string? now = null)
    {
        lock (gate)
        {
            if (double.IsFinite(fraction)) progress = Math.Max(progress, Math.Clamp(fraction, 0, 1));
            message = now ?? message;
        }
    }

    /// <summary>A problem found at <paramref name="location"/>; counted by <paramref name="kind"/>.</summary>
    public void Problem(string kind, string location, string text) => Problems.Add(kind, location, text);

    /// <summary>
    /// Rows to store when the operation succeeds (e.g. the model an import registers), in the same transaction that
    /// records the success: an operation cancelled or taken from this worker meanwhile stores nothing.
    /// </summary>
    public void StoreOnSuccess(Action<TrainingDb> store)
    {
        lock (gate) stores.Add(store);
    }

    internal IReadOnlyList<Action<TrainingDb>> Stores
    {
        get { lock (gate) return [.. stores]; }
    }

    /// <summary>The string input <paramref name="name"/>, or a failure naming it.</summary>
    public string RequiredInput(string name) =>
        Input[name]?.GetValue<string>() is { Length: > 0 } value ? value : throw new OperationFailedException($"the operation has no '{name}' argument");

    internal (double Progress, string? Message) Snapshot()
    {
        lock (gate) return (progress, message);
    }
}
