namespace TpcCma.Service.Persistence;

/// <summary>
/// Heavy work a request started and a worker carries out (a hub model import, a checkpoint conversion, a data-set
/// validation). The request answers 202 with the operation; clients poll it until it ends. The worker's changes of
/// state are conditional updates (<see cref="Operations.OperationStore"/>), so a late or duplicate worker never
/// overwrites an ended operation.
/// </summary>
public sealed class Operation
{
    private Operation() { }

    public Guid Id { get; private set; }
    public Guid? OwnerKeyId { get; private set; }
    /// <summary>What the worker does: one of <see cref="Operations.OperationKinds"/>.</summary>
    public string Kind { get; private set; } = "";
    public OperationState State { get; private set; }
    /// <summary>0..1, as far as the handler can tell.</summary>
    public double Progress { get; private set; }
    /// <summary>What is happening now, or why it ended as it did.</summary>
    public string? Message { get; private set; }
    /// <summary>The handler's arguments (jsonb); never shown to clients (it may name a node's paths).</summary>
    public string Input { get; private set; } = "{}";
    /// <summary>What a succeeded operation produced (jsonb), e.g. <c>{"model": "..."}</c>.</summary>
    public string? Result { get; private set; }
    /// <summary>The problems found (jsonb): the first ones with their locations and messages, and counts by kind.</summary>
    public string? Errors { get; private set; }
    /// <summary>
    /// What the operation works on, when two requests for the same thing must share one operation (e.g.
    /// <c>checkpoint-conversion:{job}/{step}</c>): at most one queued or running operation per subject.
    /// </summary>
    public string? Subject { get; private set; }
    public string Queue { get; private set; } = "cpu";
    public string? HangfireJobId { get; private set; }
    /// <summary>The worker running it; it heartbeats while it does, and a silent one is replaced by the reconciler.</summary>
    public string? Node { get; private set; }
    public DateTimeOffset? HeartbeatAt { get; private set; }
    public int Attempts { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? StartedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }

    public static Operation Create(string kind, Guid? ownerKeyId, string input, string queue, string? subject, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now), Kind = kind, OwnerKeyId = ownerKeyId, Input = input, Queue = queue, Subject = subject,
        State = OperationState.Queued, Message = "queued", CreatedAt = now,
    };

    public void AttachHangfireId(string id) => HangfireJobId = id;

    /// <summary>The reconciler's hand-over of an operation nobody runs: a new Hangfire job, no node.</summary>
    public void HandOver(string hangfireJobId, string why)
    {
        if (State.IsTerminal()) throw new InvalidOperationException($"operation {Id} has already ended ({State.Name()})");
        HangfireJobId = hangfireJobId;
        Node = null;
        HeartbeatAt = null;
        State = OperationState.Queued;
        Message = $"queued again: {why}";
    }

    public void MarkFailed(string message, DateTimeOffset now)
    {
        if (State.IsTerminal()) throw new InvalidOperationException($"operation {Id} has already ended ({State.Name()})");
        State = OperationState.Failed;
        Message = message;
        FinishedAt = now;
        Node = null;
    }
}
