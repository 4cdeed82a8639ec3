using TpcCma.Data;

namespace TpcCma.Service.Hosting;

/// <summary>The <c>Datasets</c> section: how large an uploaded archive may be, before and after extraction.</summary>
public sealed class DatasetSettings
{
    public const string Section = "Datasets";

    /// <summary>The largest archive upload (the request body of <c>POST /v1/datasets/upload</c>).</summary>
    public long MaxUploadBytes { get; set; } = ArchiveLimits.Default.MaxTotalBytes;

    /// <summary>Limits checked while an archive is extracted, uploaded or registered by path: archive bombs stop there.</summary>
    public ArchiveSettings Archive { get; set; } = new();

    public ArchiveLimits ArchiveLimits => new(Archive.MaxTotalBytes, Archive.MaxEntries);

    /// <summary>Shards read (and their images decoded) at once by a worker's full validation pass of a shard data set.</summary>
    public int ValidationWorkers { get; set; } = 2;

    public void Validate()
    {
        if (MaxUploadBytes <= 0) throw new InvalidOperationException($"Datasets:MaxUploadBytes must be positive, got {MaxUploadBytes}");
        if (Archive.MaxTotalBytes <= 0) throw new InvalidOperationException($"Datasets:Archive:MaxTotalBytes must be positive, got {Archive.MaxTotalBytes}");
        if (ValidationWorkers <= 0) throw new InvalidOperationException($"Datasets:ValidationWorkers must be positive, got {ValidationWorkers}");
        if (Archive.MaxEntries <= 0) throw new InvalidOperationException($"Datasets:Archive:MaxEntries must be positive, got {Archive.MaxEntries}");
    }

    /// <summary><c>Datasets:Archive</c>: the bytes all entries expand to, and the number of entries.</summary>
    public sealed class ArchiveSettings
    {
        public long MaxTotalBytes { get; set; } = ArchiveLimits.Default.MaxTotalBytes;

        public int MaxEntries { get; set; } = ArchiveLimits.Default.MaxEntries;
    }
}
