using System.Text.Json;

namespace TpcCma.Data.Shards;

/// <summary>
/// A WebDataset data set: its shards (local or remote), how samples are read from them, and the declared class
/// names and prompt templates. Opened from a shard list (<c>shards/{00000..00123}.tar</c>) or from a
/// <c>dataset.json</c> whose <c>shards</c> field holds one (a folder holding such a file works too).
/// </summary>
public sealed class ShardSet
{
    public const string DescriptorName = "dataset.json";

    public IReadOnlyList<ShardRef> Shards { get; }
    public WebDatasetFormat Format { get; }
    public ShardSources Sources { get; }
    public IReadOnlyList<string>? DeclaredClassNames { get; }
    public IReadOnlyList<string> PromptTemplates { get; }

    public ShardSet(IReadOnlyList<ShardRef> shards, WebDatasetFormat? format = null, ShardSources? sources = null,
        IReadOnlyList<string>? classNames = null, IReadOnlyList<string>? promptTemplates = null)
    {
        if (shards.Count == 0) throw new ArgumentException("a shard set needs at least one shard");
        Shards = shards;
        Format = format ?? WebDatasetFormat.Default;
        Sources = sources ?? ShardSources.LocalOnly;
        DeclaredClassNames = classNames;
        PromptTemplates = promptTemplates is { Count: > 0 } ? promptTemplates : ImageTextDataset.DefaultPromptTemplates;
    }

    /// <summary>Whether <paramref name="location"/> is a shard list, or a descriptor (file or folder) that names shards.</summary>
    public static bool IsShardSet(string location)
    {
        if (ShardList.IsShardList(location)) return true;
        var descriptor = Directory.Exists(location) ? Path.Combine(location, DescriptorName) : location;
        if (!File.Exists(descriptor) || !descriptor.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(descriptor));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("shards", out _);
        }
        catch (JsonException) { return false; }
    }

    /// <summary>Opens a shard list or descriptor; <paramref name="format"/> overrides the descriptor's field names when given.</summary>
    public static ShardSet Open(string location, ShardSources? sources = null, WebDatasetFormat? format = null)
    {
        var descriptor = Directory.Exists(location) ? Path.Combine(location, DescriptorName) : location;
        if (!ShardList.IsShardList(location) && File.Exists(descriptor)) return FromDescriptor(descriptor, sources, format);
        return new ShardSet(ShardList.Parse(location, Directory.GetCurrentDirectory()), format, sources);
    }

    private static ShardSet FromDescriptor(string path, ShardSources? sources, WebDatasetFormat? format)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            if (!root.TryGetProperty("shards", out var shards)) throw new ArgumentException($"{path}: no 'shards' field");
            var list = shards.ValueKind switch
            {
                JsonValueKind.String => shards.GetString()!,
                JsonValueKind.Array => string.Join("::", shards.EnumerateArray().Select(s => s.GetString() ?? throw new FormatException("shards must be strings"))),
                // {"train": "train-{000..009}.tar", "test": "test-000.tar"}: the split of each shard from the list.
                JsonValueKind.Object => string.Join("::", shards.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString() ?? throw new FormatException("shard patterns must be strings")}")),
                _ => throw new FormatException("'shards' must be a string, an array of strings or an object of split: pattern"),
            };
            format ??= new WebDatasetFormat(
                CaptionField: Text(root, "caption_field"),
                LabelField: Text(root, "label_field") ?? WebDatasetFormat.Default.LabelField,
                SplitField: Text(root, "split_field") ?? WebDatasetFormat.Default.SplitField);
            return new ShardSet(ShardList.Parse(list, folder), format, sources, Strings(root, "classes"), Strings(root, "templates"));
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"{path}: {ex.Message}", ex);
        }
    }

    private static string? Text(JsonElement root, string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string[]? Strings(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) ? [.. v.EnumerateArray().Select(s => s.GetString() ?? throw new FormatException($"{name} must be strings"))] : null;

    /// <summary>The samples of shard <paramref name="index"/> in stored order; the stream is closed when enumeration ends.</summary>
    public IEnumerable<ShardSample> ReadShard(int index, CancellationToken ct = default)
    {
        var shard = Shards[index];
        using var stream = Sources.Open(shard, ct);
        foreach (var sample in WebDatasetReader.Read(stream, shard, Format, ct)) yield return sample;
    }

    /// <summary>
    /// The problem that keeps a sample out of training, or null: its own (no caption, no image...) or its image's
    /// header (format, size, end marker). Cheap, so the loader and the scans decide the same way.
    /// </summary>
    public DatasetError? Problem(ShardSample sample)
    {
        if (sample.Problem is not null) return sample.Problem;
        try
        {
            ImageLoader.CheckHeader(sample.ImageBytes!, sample.Location, Format.ImageLimits ?? ImageLimits.Default);
            return null;
        }
        catch (ImageLoadException ex)
        {
            return new DatasetError(sample.Location, ex.Kind, ex.Reason);
        }
    }

    /// <summary>Whether a sample belongs to <paramref name="split"/> (null: every sample does).</summary>
    public static bool InSplit(ShardSample sample, string? split) => split is null || sample.Split == split;
}
