using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TpcCma.Data;

namespace TpcCma.Bench;

/// <summary>
/// Loader throughput in samples/s over whole epochs: cold (decode + preprocess every image), disk-cached (float32
/// files written by a previous pass) and memory-cached. Each mode runs <c>repeats</c> times; the median is reported.
/// </summary>
internal static class LoaderBenchmark
{
    public static int Run(ParseResult options)
    {
        var data = options.GetValue<string>("--data")!;
        int size = options.GetValue<int>("--size"), batch = options.GetValue<int>("--batch"), workers = options.GetValue<int>("--workers"), repeats = options.GetValue<int>("--repeats");
        var dataset = ImageTextDataset.Open(data);
        var processor = new ClipImageProcessor(ImageProcessorConfig.Clip(size));
        var cacheDir = Directory.CreateTempSubdirectory("tpccma-bench-cache-").FullName;
        Console.WriteLine($"dataset {data}: {dataset.Samples.Count} samples; size {size}, batch {batch}, workers {workers}, {Environment.ProcessorCount} cores");
        var medians = new Dictionary<string, double>();
        try
        {
            medians["cold"] = Report("cold", repeats, dataset.Samples.Count, r => Epoch(new ImageTextLoader(dataset, processor, new LoaderOptions(batch, r, Workers: workers))));
            Epoch(new ImageTextLoader(dataset, processor, new LoaderOptions(batch, Workers: workers, CacheDirectory: cacheDir))); // fill the cache
            medians["disk_cache"] = Report("disk cache", repeats, dataset.Samples.Count, r => Epoch(new ImageTextLoader(dataset, processor, new LoaderOptions(batch, r, Workers: workers, CacheDirectory: cacheDir))));
            var memory = new ImageTextLoader(dataset, processor, new LoaderOptions(batch, Workers: workers, CacheInMemory: true));
            Epoch(memory);
            medians["memory_cache"] = Report("memory cache", repeats, dataset.Samples.Count, _ => Epoch(memory));
        }
        finally { Directory.Delete(cacheDir, recursive: true); }
        if (options.GetValue<string>("--json") is { } path)
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new
            {
                suite = "loader", size, batch, workers, repeats, samples = dataset.Samples.Count, samples_per_second = medians,
            }, Training.TrainingBenchmark.JsonOptions));
        return 0;
    }

    private static void Epoch(ImageTextLoader loader)
    {
        foreach (var batch in loader.ReadEpoch(0)) batch.Dispose();
    }

    private static double Report(string mode, int repeats, int samples, Action<int> epoch)
    {
        var rates = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            var watch = Stopwatch.StartNew();
            epoch(r);
            rates.Add(samples / watch.Elapsed.TotalSeconds);
        }
        rates.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{mode,-13} median {rates[rates.Count / 2],9:F0} samples/s   (runs: {string.Join(", ", rates.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))})"));
        return rates[rates.Count / 2];
    }
}
