using System.Collections.Concurrent;

namespace TpcCma.Data.Shards;

/// <summary>What one shard holds: samples read, those usable (per split, <c>""</c> for none), and those with a problem.</summary>
public sealed record ShardSummary(ShardRef Shard, int Samples, IReadOnlyDictionary<string, int> UsableBySplit, int Bad)
{
    public int Usable => UsableBySplit.Values.Sum();

    public int UsableIn(string? split) => split is null ? Usable : UsableBySplit.GetValueOrDefault(split);
}

/// <summary>The result of reading every shard: per-shard counts, the labels and splits seen, and the problems found (the first few listed).</summary>
/// <param name="ErrorsByKind">Every problem found counted by kind, also those past the listed ones.</param>
public sealed record ShardScanReport(IReadOnlyList<ShardSummary> Shards, IReadOnlyList<string> Labels, IReadOnlyList<string> Splits,
    int ErrorCount, IReadOnlyList<DatasetError> Errors, IReadOnlyDictionary<DatasetErrorKind, int> ErrorsByKind)
{
    public int Samples => Shards.Sum(s => s.Samples);
    public int Usable => Shards.Sum(s => s.Usable);
    public int Bad => Shards.Sum(s => s.Bad);
}

/// <summary>Progress of a scan: shards done, samples read, problems so far.</summary>
public readonly record struct ShardScanProgress(int ShardsDone, int ShardsTotal, long Samples, int Errors);

/// <summary>
/// Reads shards to count, check and locate problems. <see cref="Scan"/> reads every shard (the loader's count of
/// usable samples, or with <see cref="ImageCheck.Decode"/> the full validation pass); <see cref="Probe"/> reads a
/// bounded sample, quick enough to answer inside a registering request.
/// </summary>
public static class ShardScanner
{
    /// <summary>Reads every shard, <paramref name="workers"/> at a time. A corrupt shard is one problem; the samples before it count.</summary>
    /// <param name="onProblems">Called with each shard's problems as soon as that shard is read (from the reading thread), so a
    /// long pass can publish them before it ends.</param>
    public static ShardScanReport Scan(ShardSet set, ImageCheck check = ImageCheck.Header, int workers = 2, int maxReportedErrors = 50,
        IProgress<ShardScanProgress>? progress = null, CancellationToken ct = default, Action<IReadOnlyList<DatasetError>>? onProblems = null)
    {
        var summaries = new ShardSummary[set.Shards.Count];
        var errors = new List<DatasetError>[set.Shards.Count];
        var labels = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var splits = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var byKind = new ConcurrentDictionary<DatasetErrorKind, int>();
        int done = 0, errorCount = 0;
        long samples = 0;
        Parallel.For(0, set.Shards.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, workers), CancellationToken = ct }, i =>
        {
            var found = new List<DatasetError>();
            summaries[i] = ScanShard(set, i, check, 0, found, labels, splits, ct);
            Interlocked.Add(ref errorCount, found.Count);
            foreach (var error in found) byKind.AddOrUpdate(error.Kind, 1, (_, n) => n + 1);
            if (found.Count > 0) onProblems?.Invoke(found);
            // Counted and handed on: no shard can contribute more than the listed bound, so memory stays bounded on a set full of problems.
            errors[i] = found.Count > maxReportedErrors ? found.GetRange(0, maxReportedErrors) : found;
            progress?.Report(new ShardScanProgress(Interlocked.Increment(ref done), set.Shards.Count,
                Interlocked.Add(ref samples, summaries[i].Samples), Volatile.Read(ref errorCount)));
        });
        return new ShardScanReport(summaries, [.. labels.Keys.Order(StringComparer.Ordinal)], [.. splits.Keys.Order(StringComparer.Ordinal)],
            errorCount, [.. errors.SelectMany(e => e).Take(maxReportedErrors)], byKind.OrderBy(p => p.Key).ToDictionary(p => p.Key, p => p.Value));
    }

    /// <summary>
    /// The full validation pass: every shard read, every image decoded, every problem located and counted by kind; the
    /// first <paramref name="maxReportedErrors"/> are listed (all of them by default, as the command-line tool prints).
    /// </summary>
    public static ShardScanReport Validate(ShardSet set, int workers = 2, IProgress<ShardScanProgress>? progress = null, CancellationToken ct = default,
        int maxReportedErrors = int.MaxValue, Action<IReadOnlyList<DatasetError>>? onProblems = null) =>
        Scan(set, ImageCheck.Decode, workers, maxReportedErrors, progress, ct, onProblems);

    /// <summary>
    /// A bounded check: every shard is not opened, but up to <paramref name="maxShards"/> spread over the list (first and
    /// last included) are, and up to <paramref name="samplesPerShard"/> samples of each are read with header checks
    /// (<see cref="ImageCheck.Decode"/>: their images decoded too, still bounded).
    /// </summary>
    public static ShardScanReport Probe(ShardSet set, int maxShards = 8, int samplesPerShard = 32, CancellationToken ct = default,
        ImageCheck check = ImageCheck.Header)
    {
        var count = set.Shards.Count;
        var picked = Enumerable.Range(0, Math.Min(maxShards, count))
            .Select(k => maxShards <= 1 || count == 1 ? 0 : (int)Math.Round((double)k * (count - 1) / (Math.Min(maxShards, count) - 1)))
            .Distinct().ToList();
        var labels = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var splits = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var errors = new List<DatasetError>();
        var summaries = picked.Select(i => ScanShard(set, i, check, samplesPerShard, errors, labels, splits, ct)).ToList();
        return new ShardScanReport(summaries, [.. labels.Keys.Order(StringComparer.Ordinal)], [.. splits.Keys.Order(StringComparer.Ordinal)],
            errors.Count, errors, CountByKind(errors));
    }

    private static Dictionary<DatasetErrorKind, int> CountByKind(IEnumerable<DatasetError> errors) =>
        errors.GroupBy(e => e.Kind).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());

    private static ShardSummary ScanShard(ShardSet set, int index, ImageCheck check, int sampleLimit, List<DatasetError> errors,
        ConcurrentDictionary<string, byte> labels, ConcurrentDictionary<string, byte> splits, CancellationToken ct)
    {
        var usable = new Dictionary<string, int>(StringComparer.Ordinal);
        int samples = 0, bad = 0;
        try
        {
            foreach (var sample in set.ReadShard(index, ct))
            {
                samples++;
                var problem = check == ImageCheck.Exists ? sample.Problem : set.Problem(sample);
                if (problem is null && check == ImageCheck.Decode) problem = DecodeProblem(set, sample);
                if (problem is not null)
                {
                    bad++;
                    errors.Add(problem);
                }
                else
                {
                    usable[sample.Split ?? ""] = usable.GetValueOrDefault(sample.Split ?? "") + 1;
                    if (sample.Label is { } label) labels.TryAdd(label, 0);
                    if (sample.Split is { } split) splits.TryAdd(split, 0);
                }
                if (sampleLimit > 0 && samples >= sampleLimit) break;
            }
        }
        catch (ShardReadException ex)
        {
            bad++; // the rest of the shard is lost: one problem, however many samples it held
            errors.Add(ex.ToError());
        }
        return new ShardSummary(set.Shards[index], samples, usable, bad);
    }

    private static DatasetError? DecodeProblem(ShardSet set, ShardSample sample)
    {
        try
        {
            using var image = ImageLoader.Decode(sample.ImageBytes!, sample.Location, set.Format.ImageLimits ?? ImageLimits.Default);
            return null;
        }
        catch (ImageLoadException ex)
        {
            return new DatasetError(sample.Location, ex.Kind, ex.Reason);
        }
    }
}
