namespace TpcCma.Data;

/// <summary>What is wrong with one sample, one manifest line or one archive entry.</summary>
public enum DatasetErrorKind
{
    /// <summary>The manifest line cannot be parsed or lacks a required field.</summary>
    MalformedEntry,
    /// <summary>The image file named by the entry does not exist.</summary>
    MissingFile,
    /// <summary>The file is not an image any decoder recognises, or its header is corrupt.</summary>
    UndecodableImage,
    /// <summary>The header is readable but the pixel data ends early or is corrupt.</summary>
    TruncatedImage,
    /// <summary>An image format outside the allowed list (png, jpeg, gif, bmp, webp).</summary>
    UnsupportedFormat,
    /// <summary>A zero width or height.</summary>
    ZeroDimension,
    /// <summary>More pixels (or bytes) than the limit allows: a decompression bomb or simply too large.</summary>
    ImageTooLarge,
    /// <summary>A caption that is empty or only whitespace, or an image without any caption.</summary>
    EmptyCaption,
    /// <summary>A caption longer than the character limit.</summary>
    CaptionTooLong,
    /// <summary>Two samples with the same id.</summary>
    DuplicateId,
    /// <summary>An image path that leaves the dataset root: <c>..</c>, absolute, or through a symbolic link.</summary>
    PathEscapesRoot,
    /// <summary>An archive entry whose name would be written outside the extraction folder, or a link entry.</summary>
    ArchiveEntryEscapes,
    /// <summary>The archive exceeds the total uncompressed size or the entry count limit.</summary>
    ArchiveTooLarge,
    /// <summary>A WebDataset shard that is not a tar file, or ends in the middle of a member.</summary>
    CorruptShard,
}

/// <summary>One problem found in a dataset, with where it is (<c>manifest.jsonl:12</c>, <c>data.tar!img/a.png</c>).</summary>
public sealed record DatasetError(string Location, DatasetErrorKind Kind, string Message)
{
    public override string ToString() => $"{Location}: {Message}";
}

/// <summary>A dataset that failed validation under the <c>fail</c> policy; lists every problem found.</summary>
public sealed class DatasetValidationException(IReadOnlyList<DatasetError> errors)
    : Exception($"dataset has {errors.Count} error(s):\n" + string.Join("\n", errors.Select(e => "  " + e)))
{
    public IReadOnlyList<DatasetError> Errors { get; } = errors;
}
