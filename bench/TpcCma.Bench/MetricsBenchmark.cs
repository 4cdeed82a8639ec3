using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TpcCma.Evaluation;
using TpcCma.Evaluation.Captioning;
using static TorchSharp.torch;

namespace TpcCma.Bench;

/// <summary>
/// <c>tpccma-bench metrics [gaps|probe|kmeans|cider|captioning ...] [--repeats R] [--threads T] [--device cpu|cuda]</c>:
/// median wall time of each evaluation metric at the sizes docs/BENCHMARKS.md reports.
/// </summary>
public static class MetricsBenchmark
{
    public static readonly string[] AllParts = ["gaps", "probe", "kmeans", "cider", "captioning"];

    public static int Run(ParseResult options)
    {
        var parts = options.GetValue<string[]>("PART") is { Length: > 0 } named ? named : AllParts;
        var repeats = options.GetValue<int>("--repeats");
        if (options.GetValue<int>("--threads") is > 0 and var threads) set_num_threads(threads);
        var device = new Device(options.GetValue<string>("--device")!);

        Console.WriteLine($"# {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, torch threads {get_num_threads()}, device {device}, repeats {repeats}");
        foreach (var part in parts)
        {
            Action? body = part switch
            {
                "gaps" => Gaps(device),
                "probe" => Probe(device),
                "kmeans" => KMeansPart(device),
                "cider" => Cider(),
                "captioning" => Captioning(device),
                _ => null,
            };
            if (body is null) { Console.Error.WriteLine($"unknown part '{part}'"); return 2; }
            body();                                                  // warm-up: first-call costs are not the metric's
            var times = Enumerable.Range(0, repeats).Select(_ => { var sw = Stopwatch.StartNew(); body(); return sw.Elapsed.TotalSeconds; }).Order().ToArray();
            Console.WriteLine($"{part,-12} median {times[times.Length / 2]:F3} s  (min {times[0]:F3}, max {times[^1]:F3})");
        }
        return 0;
    }

    /// <summary>Paired clouds like CLIP embeddings: shared content plus a modality offset.</summary>
    private static (Tensor Image, Tensor Text) Clouds(int n, int d, Device device)
    {
        using var generator = new Generator(1);
        var shared = randn([n, d], generator: generator);
        var offset = randn([1, d], generator: generator);
        var image = (shared + 0.7f * randn([n, d], generator: generator) + offset).to(device);
        var text = (shared + 0.7f * randn([n, d], generator: generator) - offset).to(device);
        return (image, text);
    }

    private static Action Gaps(Device device)
    {
        var (image, text) = Clouds(50_000, 512, device);
        Console.WriteLine("gaps: N = 50,000 pairs, d = 512, all of GapMeasures (float64)");
        return () => GapGeometry.Measure(image, text);
    }

    private static Action Probe(Device device)
    {
        var (image, text) = Clouds(50_000, 512, device);
        Console.WriteLine($"probe: N = 50,000 pairs, d = 512, separability with defaults {new LinearProbeOptions()}");
        return () => LinearProbe.Separability(image, text);
    }

    private static Action KMeansPart(Device device)
    {
        using var generator = new Generator(2);
        var centres = randn([100, 512], generator: generator);
        var assignment = randint(100, [20_000], generator: generator);
        var points = (centres.index_select(0, assignment) + 0.8f * randn([20_000, 512], generator: generator)).to(device);
        Console.WriteLine("kmeans: N = 20,000, d = 512, k = 100, 10 restarts, float32");
        return () =>
        {
            var r = KMeans.Fit(points, 100);
            Console.WriteLine($"  inertia {r.Inertia:F1}, iterations of best {r.Iterations}");
        };
    }

    private static Action Cider()
    {
        var vocabulary = "a the man woman dog cat on in with red blue small big riding holding sitting standing next to street table grass".Split(' ');
        var random = new Random(3);
        string Sentence() => string.Join(' ', Enumerable.Range(0, random.Next(6, 14)).Select(_ => vocabulary[random.Next(vocabulary.Length)]));
        var candidates = new Dictionary<string, string>();
        var references = new Dictionary<string, IReadOnlyList<string>>();
        for (var i = 0; i < 5_000; i++)
        {
            candidates[i.ToString(CultureInfo.InvariantCulture)] = Sentence();
            references[i.ToString(CultureInfo.InvariantCulture)] = Enumerable.Range(0, 5).Select(_ => Sentence()).ToArray();
        }
        Console.WriteLine("cider: 5,000 images, 5 references each, 6-13 words");
        return () => CiderD.Score(candidates, references);
    }

    private static Action Captioning(Device device)
    {
        var (_, text) = Clouds(2_000, 512, device);
        var random = new Random(4);
        var captions = Enumerable.Range(0, 2_000).Select(_ => $"a photo of {random.Next(50)} things on a {random.Next(20)} table").ToArray();
        var options = new CaptioningOptions();
        Console.WriteLine($"captioning: train on 2,000 captions, defaults {options}");
        return () => { using var captioner = ZeroShotCaptioner.Train(text, captions, options); };
    }
}
