namespace TpcCma.Service.Persistence;

/// <summary>Something that happened to a job: a status change, a phase transition, a checkpoint, an evaluation.</summary>
public sealed class JobEvent
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public JobEventKind Kind { get; set; }
    public long? Step { get; set; }
    public string Message { get; set; } = "";
    /// <summary>Event details as jsonb (phase, reason, report...).</summary>
    public string? Data { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>A status change: <paramref name="message"/> starts with the status's name (<c>queued</c>, <c>failed: REASON</c>).</summary>
    public static JobEvent Status(Guid jobId, string message, long? step, DateTimeOffset at) =>
        new() { JobId = jobId, Kind = JobEventKind.Status, Message = message, Step = step, CreatedAt = at };
}
