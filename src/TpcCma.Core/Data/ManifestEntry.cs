namespace TpcCma.Data;

/// <summary>One sample as a manifest states it, before any path or image is checked.</summary>
/// <param name="Location">Where it was read (<c>manifest.jsonl:3</c>), used in every error about it.</param>
/// <param name="Image">The image path relative to <paramref name="ImageBase"/>, as written in the manifest.</param>
/// <param name="ImageBase">The folder <paramref name="Image"/> is relative to; it must lie inside the dataset root.</param>
internal sealed record ManifestEntry(string Location, string Id, string Image, string ImageBase, List<string> Captions, string? Label, string? Split);

/// <summary>What a manifest reader produced: entries, problems it found itself, and optional dataset metadata.</summary>
internal sealed class ManifestContent
{
    public List<ManifestEntry> Entries { get; } = [];
    public List<DatasetError> Errors { get; } = [];
    public IReadOnlyList<string>? ClassNames { get; set; }
    public IReadOnlyList<string>? PromptTemplates { get; set; }
}
