using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TpcCma.Data;
using TpcCma.Data.Shards;

namespace TpcCma.Bench;

/// <summary>
/// WebDataset shards: the sharded loader's throughput next to the folder format's on the same samples (cold, every
/// image decoded), and its resident memory sampled along a long run with the in-memory cache on and its byte
/// budget set, to show that memory stays flat however many pairs pass.
/// </summary>
internal static class ShardLoaderBenchmark
{
    public static int Run(ParseResult options)
    {
        var shards = options.GetValue<string>("--shards")!;
        var folder = options.GetValue<string>("--folder");
        int size = options.GetValue<int>("--size"), batch = options.GetValue<int>("--batch"), workers = options.GetValue<int>("--workers");
        var maxSamples = options.GetValue<int>("--max-samples");
        var rssEvery = options.GetValue<int>("--rss-every");
        var cacheMiB = options.GetValue<int>("--cache-mib");
        var mode = options.GetValue<string>("--mode")!;
        var repeats = options.GetValue<int>("--repeats");
        var processor = new ClipImageProcessor(ImageProcessorConfig.Clip(size));
        var set = ShardSet.Open(shards);
        Console.WriteLine($"{set.Shards.Count} shards; size {size}, batch {batch}, workers {workers}, {Environment.ProcessorCount} cores; load {Load()}");

        var scanWatch = Stopwatch.StartNew();
        var scan = ShardScanner.Scan(set, ImageCheck.Header, workers);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scan (headers, every shard): {scan.Samples} samples in {scanWatch.Elapsed.TotalSeconds:F1} s ({scan.Samples / scanWatch.Elapsed.TotalSeconds:F0}/s), RSS {RssMiB():F0} MiB"));
        var results = new Dictionary<string, object> { ["suite"] = "shards", ["size"] = size, ["batch"] = batch, ["workers"] = workers, ["samples_in_set"] = scan.Samples };
        if (mode == "memory")
        {
            var loader = new ShardedLoader(set, processor, new LoaderOptions(batch, Workers: workers, DropLast: true, CacheInMemory: true,
                MemoryCacheBytes: (long)cacheMiB << 20), scan: scan);
            var samples = new List<(long Samples, double RssMiB, double HeapMiB)>();
            var watch = Stopwatch.StartNew();
            long served = 0;
            foreach (var b in loader.ReadEpoch(0))
            {
                served += b.Ids.Length;
                b.Dispose();
                if (served / batch % rssEvery == 0) samples.Add((served, RssMiB(), GC.GetTotalMemory(false) / 1048576.0));
                if (served >= maxSamples) break;
            }
            var rate = served / watch.Elapsed.TotalSeconds;
            foreach (var (n, rss, heap) in samples) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {n,9} samples  RSS {rss,7:F0} MiB  managed heap {heap,6:F0} MiB"));
            var afterWarmup = samples.Skip(samples.Count / 10).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"memory: {served} samples at {rate:F0}/s; RSS after the first 10% of the run {afterWarmup.Min(s => s.RssMiB):F0} to {afterWarmup.Max(s => s.RssMiB):F0} MiB (cache budget {cacheMiB} MiB)"));
            results["memory"] = new { served, samples_per_second = rate, cache_budget_mib = cacheMiB, rss_mib = samples.Select(s => new { samples = s.Samples, rss = s.RssMiB, heap = s.HeapMiB }) };
        }
        else
        {
            var count = Math.Min(maxSamples, scan.Usable) / batch * batch;
            var sharded = new ShardedLoader(set, processor, new LoaderOptions(batch, Workers: workers, DropLast: true), scan: scan);
            var dataset = folder is null ? null : ImageTextDataset.Open(folder, new DatasetOptions(ImageCheck: ImageCheck.Exists));
            var loader = dataset is null ? null : new ImageTextLoader(dataset, processor, new LoaderOptions(batch, Workers: workers, DropLast: true));
            // Warm-up (JIT, decoders, thread pool) for both, untimed; then the two alternate, epoch after epoch.
            Time("warm-up", 4 * batch, sharded.ReadEpoch(0));
            if (loader is not null) Time("warm-up", 4 * batch, loader.ReadEpoch(0));
            var (shardRates, folderRates) = (new List<double>(), new List<double>());
            for (var r = 0; r < repeats; r++)
            {
                shardRates.Add(Time("shards", count, sharded.ReadEpoch(r + 1)));
                if (loader is not null) folderRates.Add(Time("folder", Math.Min(count, dataset!.Samples.Count / batch * batch), loader.ReadEpoch(r + 1)));
            }
            results["shards_samples_per_second"] = shardRates;
            if (loader is not null) results["folder_samples_per_second"] = folderRates;
            results["samples"] = count;
        }
        Console.WriteLine($"load {Load()}");
        if (options.GetValue<string>("--json") is { } path)
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(results, Training.TrainingBenchmark.JsonOptions));
        return 0;
    }

    private static double Time(string name, int count, IEnumerable<ImageTextBatch> batches)
    {
        var watch = Stopwatch.StartNew();
        var served = 0;
        foreach (var b in batches)
        {
            served += b.Ids.Length;
            b.Dispose();
            if (served >= count) break;
        }
        var rate = served / watch.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-7} {served} samples in {watch.Elapsed.TotalSeconds:F1} s: {rate:F0} samples/s"));
        return rate;
    }

    private static double RssMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        return Environment.WorkingSet / 1048576.0;
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
