using System.Text.Json;
using SixLabors.ImageSharp;
using TpcCma.Data.Sources;

namespace TpcCma.Data.Shards;

/// <summary>Encoding of images written into shards by the synthetic source.</summary>
public enum ShardImageFormat { Png, Jpeg }

/// <summary>
/// Moves data sets between the folder/manifest formats and WebDataset shards, and writes the synthetic-shapes source
/// straight into shards. Every path streams: at most one chunk of samples is held in memory.
/// </summary>
public static class ShardConversion
{
    private const int Chunk = 512;

    /// <summary>
    /// The synthetic-shapes data set as shards of <paramref name="shardSize"/> samples: the same images, captions,
    /// labels and splits as <see cref="SyntheticShapes.Write"/>, keys <c>000000</c>, ..., and a <c>dataset.json</c>.
    /// </summary>
    public static int WriteSynthetic(string outDir, SyntheticShapesOptions options, int shardSize, ShardImageFormat format = ShardImageFormat.Png,
        IProgress<int>? progress = null, CancellationToken ct = default)
    {
        options.Validated();
        RequireShardSize(shardSize);
        using var writer = new ShardWriter(outDir, shardSize);
        var encoded = new (byte[] Image, string[] Captions, string Label, string? Split)[Chunk];
        for (var start = 0; start < options.Count; start += Chunk)
        {
            var count = Math.Min(Chunk, options.Count - start);
            // Drawn in parallel, written in order: the shards do not depend on the thread count.
            Parallel.For(0, count, new ParallelOptions { CancellationToken = ct }, i =>
            {
                var (image, _, captions, label, split) = SyntheticShapes.Draw(start + i, options);
                using (image)
                using (var stream = new MemoryStream())
                {
                    if (format == ShardImageFormat.Jpeg) image.SaveAsJpeg(stream);
                    else image.SaveAsPng(stream);
                    encoded[i] = (stream.ToArray(), captions, label, split);
                }
            });
            for (var i = 0; i < count; i++)
                writer.Write($"{start + i:D6}", encoded[i].Image, format == ShardImageFormat.Jpeg ? "jpg" : "png", encoded[i].Captions, encoded[i].Label, encoded[i].Split);
            progress?.Report(start + count);
        }
        writer.WriteDescriptor(SyntheticShapes.ClassNames(options.Label), ImageTextDataset.DefaultPromptTemplates);
        return writer.ShardFiles.Count;
    }

    /// <summary>A folder/manifest/archive data set as shards: image files copied byte for byte, keys numbered, ids kept in <c>KEY.json</c>.</summary>
    public static int FromDataset(ImageTextDataset dataset, string outDir, int shardSize, CancellationToken ct = default)
    {
        RequireShardSize(shardSize);
        using var writer = new ShardWriter(outDir, shardSize);
        for (var i = 0; i < dataset.Samples.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var sample = dataset.Samples[i];
            var extension = Path.GetExtension(sample.ImagePath).TrimStart('.').ToLowerInvariant();
            if (!WebDatasetFormat.ImageExtensions.Contains(extension)) extension = Image.DetectFormat(sample.ImagePath).FileExtensions.First();
            writer.Write($"{i:D8}", File.ReadAllBytes(sample.ImagePath), extension, sample.Captions, sample.Label, sample.Split, sample.Id);
        }
        writer.WriteDescriptor(dataset.ClassNames, dataset.PromptTemplates);
        return writer.ShardFiles.Count;
    }

    /// <summary>
    /// Shards as a folder: <c>images/KEY.EXT</c>, <c>manifest.jsonl</c> and <c>dataset.json</c>. Samples with problems
    /// stop the conversion (policy fail, nothing written) or are left out and returned (policy skip).
    /// </summary>
    public static (int Written, IReadOnlyList<DatasetError> Skipped) ToFolder(ShardSet set, string outDir, ValidationPolicy policy, CancellationToken ct = default)
    {
        if (policy == ValidationPolicy.Fail)
        {
            var scan = ShardScanner.Scan(set, ImageCheck.Header, ct: ct);
            if (scan.ErrorCount > 0) throw new DatasetValidationException(scan.Errors);
        }
        Directory.CreateDirectory(Path.Combine(outDir, "images"));
        var skipped = new List<DatasetError>();
        var labels = new SortedSet<string>(StringComparer.Ordinal);
        var written = 0;
        using (var manifest = new StreamWriter(Path.Combine(outDir, "manifest.jsonl")))
        {
            for (var shard = 0; shard < set.Shards.Count; shard++)
            {
                try
                {
                    foreach (var sample in set.ReadShard(shard, ct))
                    {
                        if (set.Problem(sample) is { } problem)
                        {
                            skipped.Add(problem);
                            continue;
                        }
                        // Keys are unique within a shard; the shard's name keeps them apart across shards.
                        var file = $"images/{Path.GetFileNameWithoutExtension(set.Shards[shard].Name)}/{sample.Key.Replace('/', '_')}{Path.GetExtension(sample.ImageMember)}";
                        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(outDir, file))!);
                        File.WriteAllBytes(Path.Combine(outDir, file), sample.ImageBytes!);
                        manifest.WriteLine(JsonSerializer.Serialize(new { image = file, captions = sample.Captions, label = sample.Label, split = sample.Split, id = $"{set.Shards[shard].Name}!{sample.Key}" }));
                        if (sample.Label is not null) labels.Add(sample.Label);
                        written++;
                    }
                }
                catch (ShardReadException ex) when (policy == ValidationPolicy.Skip)
                {
                    skipped.Add(ex.ToError());
                }
            }
        }
        File.WriteAllText(Path.Combine(outDir, DatasetReader.SidecarName), JsonSerializer.Serialize(new
        {
            classes = set.DeclaredClassNames ?? [.. labels],
            templates = set.PromptTemplates,
        }));
        return (written, skipped);
    }

    private static void RequireShardSize(int shardSize)
    {
        if (shardSize <= 0) throw new ArgumentException($"shard size must be positive, got {shardSize}");
    }
}
