namespace TpcCma.Data;

/// <summary>What to do with a sample that has a problem.</summary>
public enum ValidationPolicy
{
    /// <summary>Collect every problem, then throw one <see cref="DatasetValidationException"/> listing them all.</summary>
    Fail,
    /// <summary>Leave out samples with problems; count them and list the first few in the dataset's report.</summary>
    Skip,
}

/// <summary>How much of each image is checked when a dataset is opened.</summary>
public enum ImageCheck
{
    /// <summary>Only that the file exists.</summary>
    Exists,
    /// <summary>Format, dimensions and end marker (reads the file, no pixel decode). The default.</summary>
    Header,
    /// <summary>A full decode of every image: what <c>datasets validate</c> does.</summary>
    Decode,
}

/// <summary>Limits on archives, checked while extracting: archive bombs stop extraction.</summary>
public sealed record ArchiveLimits(long MaxTotalBytes = 8L << 30, int MaxEntries = 1_000_000)
{
    public static ArchiveLimits Default { get; } = new();
}

/// <summary>Options for opening a dataset; every field has a safe default.</summary>
/// <param name="ImageFolder">For COCO captions JSON: the folder holding the images (default: the JSON's folder).</param>
/// <param name="ExtractionRoot">Where archives are extracted (default: a folder per archive under the temp folder).</param>
public sealed record DatasetOptions(
    ValidationPolicy Policy = ValidationPolicy.Fail,
    ImageCheck ImageCheck = ImageCheck.Header,
    ImageLimits? ImageLimits = null,
    ArchiveLimits? ArchiveLimits = null,
    int MaxCaptionChars = 1000,
    int MaxReportedErrors = 50,
    string? ImageFolder = null,
    string? ExtractionRoot = null)
{
    public static DatasetOptions Default { get; } = new();
}
