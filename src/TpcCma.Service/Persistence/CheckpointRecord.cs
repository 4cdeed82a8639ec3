namespace TpcCma.Service.Persistence;

/// <summary>A checkpoint a job wrote: where it lives, at which step and phase, its size and sha256.</summary>
public sealed class CheckpointRecord
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public long Step { get; set; }
    public string Phase { get; set; } = "";
    public string Location { get; set; } = "";
    public long SizeBytes { get; set; }
    public string Sha256 { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
