namespace TpcCma.Service.Persistence;

/// <summary>Something that happened to a job: a status change, a phase transition, a checkpoint, an evaluation.</summary>
public sealed class JobEvent
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public string Kind { get; set; } = "";
    public long? Step { get; set; }
    public string Message { get; set; } = "";
    /// <summary>Event details as jsonb (phase, reason, report...).</summary>
    public string? Data { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
