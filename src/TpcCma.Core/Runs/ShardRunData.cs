using TpcCma.Data;
using TpcCma.Data.Shards;

namespace TpcCma.Runs;

/// <summary>The training split of a shard data set: streamed by <see cref="ShardedLoader"/>, never held as a list.</summary>
/// <param name="Split">The split trained on; null when the shards carry no splits (every sample trains).</param>
public sealed record ShardTraining(ShardSet Set, ShardScanReport Scan, string? Split)
{
    public int Samples => Scan.Shards.Sum(s => s.UsableIn(Split));

    /// <summary>Every caption of the training split, read in shard order (images are read past, not decoded).</summary>
    public IEnumerable<string> Captions(CancellationToken ct = default)
    {
        for (var shard = 0; shard < Set.Shards.Count; shard++)
        {
            if (Scan.Shards[shard].UsableIn(Split) == 0) continue;
            foreach (var sample in Set.ReadShard(shard, ct))
                if (ShardSet.InSplit(sample, Split) && Set.Problem(sample) is null)
                    foreach (var caption in sample.Captions) yield return caption;
        }
    }
}

/// <summary>
/// Opens a shard data set for a run. Training reads the shards through the loader; the evaluator needs data sets it
/// can index, so the held-out splits (bounded) and a bounded head of the training split are copied out of the shards
/// once into the run's folder as image files: the shards themselves are never extracted.
/// </summary>
public static class ShardRunData
{
    /// <summary>Held-out samples copied per split: evaluation uses at most <c>eval.max_pairs</c> of them anyway.</summary>
    public const int MaxHeldOutSamples = 10_000;

    /// <summary>Training samples copied for the evaluator's train report and captioning corpus (8,000 captions at most).</summary>
    public const int MaxTrainSamples = 8_000;

    public static RunData Open(string location, string trainSplit, ShardSources? sources, string workDirectory, CancellationToken ct = default)
    {
        var set = ShardSet.Open(location, sources);
        var scan = ShardScanner.Scan(set, ImageCheck.Header, maxReportedErrors: 1000, ct: ct);
        var splits = scan.Splits;
        var heldOut = RunData.HeldOutNames.FirstOrDefault(splits.Contains);
        string? train = splits.Contains(trainSplit) ? trainSplit : null;
        if (train is null && heldOut is not null)
            throw new ArgumentException($"the shards have no split '{trainSplit}' to train on (splits: {string.Join(", ", splits)})");

        // What to copy out: every split but the trained one up to the held-out bound, the trained one up to its own.
        var wanted = splits.Where(s => s != train).ToDictionary(s => s, _ => MaxHeldOutSamples, StringComparer.Ordinal);
        var trainKey = train ?? "";
        wanted[trainKey] = MaxTrainSamples;
        var copied = Copy(set, scan, wanted, train, workDirectory, ct);

        var classes = set.DeclaredClassNames ?? scan.Labels;
        ImageTextDataset Dataset(string key) => new(workDirectory, copied.GetValueOrDefault(key) ?? [], classes, set.PromptTemplates);
        var shards = new ShardTraining(set, scan, train);
        var trainData = Dataset(trainKey);
        // Without a held-out split the run evaluates on (a head of) what it trained on, as for the other formats.
        if (heldOut is null) return new RunData(trainData, trainData, "train") { Shards = shards };
        var others = splits.Where(s => s != heldOut && s != train).Select(s => (s, Dataset(s))).ToList();
        return new RunData(trainData, Dataset(heldOut), heldOut) { OtherHeldOut = others, Shards = shards };
    }

    /// <summary>
    /// Copies the wanted samples' images to <paramref name="directory"/>, reading only shards that still hold some.
    /// Rewritten on every open (a resumed run gets the same files): the shards are the truth, not an old copy.
    /// </summary>
    private static Dictionary<string, List<DatasetSample>> Copy(ShardSet set, ShardScanReport scan, Dictionary<string, int> wanted,
        string? train, string directory, CancellationToken ct)
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        Directory.CreateDirectory(directory);
        var result = wanted.Keys.ToDictionary(k => k, _ => new List<DatasetSample>(), StringComparer.Ordinal);
        string KeyOf(string? split) => train is null || split == train ? train ?? "" : split ?? "";
        bool Full(string key) => !wanted.TryGetValue(key, out var max) || result[key].Count >= max;
        for (var shard = 0; shard < set.Shards.Count; shard++)
        {
            var summary = scan.Shards[shard];
            if (summary.UsableBySplit.Where(p => p.Value > 0).All(p => Full(KeyOf(p.Key == "" ? null : p.Key)))) continue;
            var stem = Path.GetFileNameWithoutExtension(set.Shards[shard].Name);
            foreach (var sample in set.ReadShard(shard, ct))
            {
                var key = KeyOf(sample.Split);
                if (Full(key) || set.Problem(sample) is not null) continue;
                // Keys are unique within a shard; the shard's name keeps them apart across shards.
                var file = Path.Combine(directory, stem, sample.Key.Replace('/', '_') + Path.GetExtension(sample.ImageMember));
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllBytes(file, sample.ImageBytes!);
                result[key].Add(new DatasetSample(ShardLocation.Of(set.Shards[shard].Name, sample.Key), file, sample.Captions, sample.Label, sample.Split));
            }
        }
        return result;
    }
}
