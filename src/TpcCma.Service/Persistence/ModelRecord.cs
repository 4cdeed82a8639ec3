namespace TpcCma.Service.Persistence;

/// <summary>A model jobs can start from: imported, downloaded from a hub, a preset, or the output of a job.</summary>
public sealed class ModelRecord
{
    public Guid Id { get; set; }
    public Guid? OwnerKeyId { get; set; }
    public string Name { get; set; } = "";
    /// <summary><c>import</c>, <c>hf</c>, <c>preset</c> or <c>job</c>.</summary>
    public string Source { get; set; } = "";
    /// <summary>What the model loader accepts: a preset name, an hf: reference, a folder or a .safetensors path.</summary>
    public string Reference { get; set; } = "";
    public Guid? JobId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
