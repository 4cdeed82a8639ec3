namespace TpcCma.Service.Persistence;

/// <summary>A registered dataset: validated once when registered, then referenced by jobs.</summary>
public sealed class DatasetRecord
{
    public Guid Id { get; set; }
    public Guid? OwnerKeyId { get; set; }
    public string Name { get; set; } = "";
    /// <summary><c>upload</c>, <c>path</c> (under the data root) or <c>builtin</c> (synthetic-shapes, emoji).</summary>
    public string Source { get; set; } = "";
    /// <summary>Absolute path of the dataset (manifest file or folder) on the shared data root.</summary>
    public string Location { get; set; } = "";
    public int SampleCount { get; set; }
    public int ClassCount { get; set; }
    /// <summary>The validation report (jsonb): counts per split, skipped samples and the first errors.</summary>
    public string Report { get; set; } = "{}";
    public DateTimeOffset CreatedAt { get; set; }
}
