using System.Security.Cryptography;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace TpcCma.Data.Sources;

/// <summary>Which emoji.json field becomes the class label.</summary>
public enum EmojiLabel { Subcategory, Category }

/// <summary>Settings of the emoji import (npm packages <c>emoji-datasource-STYLE</c>).</summary>
/// <param name="CacheDirectory">Where the npm package files are kept (default: <c>$XDG_CACHE_HOME/tpccma/npm</c> or <c>~/.cache/tpccma/npm</c>).</param>
public sealed record EmojiImportOptions(
    string TrainStyle = "twitter",
    string EvalStyle = "google",
    EmojiLabel Labels = EmojiLabel.Subcategory,
    string Version = "16.0.0",
    string? CacheDirectory = null,
    string NpmCommand = "npm",
    double HoldOutFraction = 0.1)
{
    public static IReadOnlyList<string> Styles { get; } = ["apple", "facebook", "google", "twitter"];

    public EmojiImportOptions Validated()
    {
        foreach (var style in new[] { TrainStyle, EvalStyle })
            if (!Styles.Contains(style)) throw new ArgumentException($"emoji style '{style}' is not one of {string.Join(", ", Styles)}");
        if (TrainStyle == EvalStyle) throw new ArgumentException($"train and eval styles must differ, both are '{TrainStyle}'");
        if (HoldOutFraction is < 0 or >= 1) throw new ArgumentException($"hold-out fraction must be in [0, 1), got {HoldOutFraction}");
        return this;
    }

    public string ResolvedCacheDirectory => CacheDirectory ?? NpmPackageCache.DefaultDirectory;
}

/// <summary>
/// Imports the emoji of two <c>emoji-datasource-STYLE</c> npm packages as one dataset: each emoji once per style
/// (64x64 PNG, flattened onto white), captions from its name and short names, label from its subcategory (99) or
/// category (10), splits <c>train</c> and <c>val</c> (held-out emoji) for one style and <c>test</c> for the other. The package archives are
/// fetched once with <c>npm pack</c> into a cache, so later imports run offline and give identical files.
/// </summary>
public static class EmojiImporter
{
    public static ImageTextDataset Import(string outDir, EmojiImportOptions options, CancellationToken ct = default)
    {
        options.Validated();
        Directory.CreateDirectory(outDir);
        var lines = new List<string>();
        var packages = new Dictionary<string, string>();
        // The training style keeps a hash-chosen share of its emoji apart ("val"): held-out images of the style
        // trained on. The other style ("test") measures how a style never trained on shifts the embeddings.
        Func<string, string> trainStyleSplit = file => DatasetSplits.HashFraction(file) < options.HoldOutFraction ? "val" : "train";
        foreach (var (style, splitOf) in new[] { (options.TrainStyle, trainStyleSplit), (options.EvalStyle, _ => "test") })
        {
            var archive = EnsurePackage(style, options, ct);
            packages[style] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(archive)));
            lines.AddRange(ExtractStyle(archive, style, splitOf, outDir, options.Labels, ct));
        }
        File.WriteAllLines(Path.Combine(outDir, "manifest.jsonl"), lines);
        var dataset = ImageTextDataset.Open(outDir);
        File.WriteAllText(Path.Combine(outDir, DatasetReader.SidecarName), JsonSerializer.Serialize(new
        {
            source = "emoji",
            version = options.Version,
            labels = options.Labels.ToString().ToLowerInvariant(),
            package_sha256 = packages,
            classes = dataset.ClassNames,
            templates = ImageTextDataset.DefaultPromptTemplates,
        }));
        return ImageTextDataset.Open(outDir);
    }

    /// <summary>The package archive in the cache, fetched with <c>npm pack</c> when missing.</summary>
    public static string EnsurePackage(string style, EmojiImportOptions options, CancellationToken ct = default) =>
        NpmPackageCache.Ensure($"emoji-datasource-{style}", options.Version, options.ResolvedCacheDirectory, options.NpmCommand, ct);

    private static List<string> ExtractStyle(string archive, string style, Func<string, string> splitOf, string outDir, EmojiLabel labels, CancellationToken ct)
    {
        // Two passes over the archive: emoji.json says which images are wanted, then only those are read.
        var emoji = ReadEntries(archive, name => name == "package/emoji.json", ct).Select(e => JsonDocument.Parse(e.Bytes)).FirstOrDefault()
            ?? throw new InvalidDataException($"{archive}: package/emoji.json not found");
        using (emoji)
        {
            var wanted = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var e in emoji.RootElement.EnumerateArray())
                if (e.TryGetProperty($"has_img_{style}", out var has) && has.ValueKind == JsonValueKind.True)
                    wanted[$"package/img/{style}/64/{e.GetProperty("image").GetString()}"] = e;
            var styleDir = Path.Combine(outDir, style);
            Directory.CreateDirectory(styleDir);
            var lines = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, bytes) in ReadEntries(archive, wanted.ContainsKey, ct))
            {
                var entry = wanted[name];
                var file = Path.GetFileName(name);
                FlattenOntoWhite(bytes, Path.Combine(styleDir, file), $"{archive}!{name}");
                lines[file] = JsonSerializer.Serialize(new
                {
                    id = $"{style}/{file}",
                    image = $"{style}/{file}",
                    captions = Captions(entry),
                    label = Label(entry, labels),
                    split = splitOf(file),
                });
            }
            if (lines.Count != wanted.Count)
                throw new InvalidDataException($"{archive}: emoji.json lists {wanted.Count} {style} images but the package holds {lines.Count}");
            return [.. lines.Values];
        }
    }

    /// <summary>Captions: the lower-cased name, then each short name with underscores as spaces, without repeats.</summary>
    internal static string[] Captions(JsonElement entry)
    {
        var captions = new List<string>();
        if (entry.TryGetProperty("name", out var name) && name.GetString() is { Length: > 0 } n) captions.Add(n.ToLowerInvariant());
        if (entry.TryGetProperty("short_names", out var shortNames))
            captions.AddRange(shortNames.EnumerateArray().Select(s => s.GetString()!.Replace('_', ' ')));
        return [.. captions.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The class label: the subcategory with dashes as spaces (<c>face smiling</c>), or the category.</summary>
    internal static string Label(JsonElement entry, EmojiLabel labels) => labels == EmojiLabel.Category
        ? entry.GetProperty("category").GetString()!
        : entry.GetProperty("subcategory").GetString()!.Replace('-', ' ');

    private static IEnumerable<(string Name, byte[] Bytes)> ReadEntries(string archive, Func<string, bool> wanted, CancellationToken ct) =>
        NpmPackageCache.ReadEntries(archive, wanted, ct);

    private static Image<Rgba32> Decode(byte[] png, string name)
    {
        try { return Image.Load<Rgba32>(png); }
        catch (Exception ex) when (ex is UnknownImageFormatException or InvalidImageContentException or ImageFormatException)
        {
            throw new InvalidDataException($"{name}: not a readable PNG ({ex.Message})", ex);
        }
    }

    // Emoji PNGs are transparent around the glyph; CLIP's RGB conversion would drop alpha and show whatever colour
    // the transparent pixels hold, so composite onto white once here.
    private static void FlattenOntoWhite(byte[] png, string target, string name)
    {
        using var image = Decode(png, name);
        using var flat = new Image<Rgb24>(image.Width, image.Height);
        for (var y = 0; y < image.Height; y++)
            for (var x = 0; x < image.Width; x++)
            {
                var p = image[x, y];
                byte Over(byte c) => (byte)((c * p.A + 255 * (255 - p.A) + 127) / 255);
                flat[x, y] = new Rgb24(Over(p.R), Over(p.G), Over(p.B));
            }
        flat.SaveAsPng(target);
    }
}
