using System.CommandLine;
using TorchSharp;
using System.Diagnostics;
using System.Text.Json;
using TpcCma.Model;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Bench.Training;

/// <summary>
/// <c>tpccma-bench memory</c>: a long run of the real <see cref="Trainer"/> (periodic checkpoints included) that
/// samples the process's resident memory and TorchSharp's live-tensor count on every logging step. Both must
/// stay flat: a leak of one tensor per step shows up as a count that climbs by the logging interval.
/// </summary>
internal static class MemoryBenchmark
{
    public static int Run(ParseResult options)
    {
        var preset = options.GetValue<string>("--preset")!;
        var config = ClipConfig.Preset(preset);
        int batch = options.GetValue<int>("--batch"), steps = options.GetValue<int>("--steps"), every = options.GetValue<int>("--every");
        if (options.GetValue<int>("--threads") is > 0 and var threads) set_num_threads(threads);
        var spec = new TrainingSpec { Model = preset, BatchSize = batch, Steps = steps, LogEvery = every };
        var output = Directory.CreateTempSubdirectory("tpccma-bench-memory-").FullName;
        var sampler = new Sampler();
        try
        {
            manual_seed(spec.Seed);
            using var model = new ClipModel(config);
            using var batches = new SyntheticBatchSource(4 * batch, batch, config.ImageResolution, config.ContextLength, config.VocabSize, spec.Seed);
            using var trainer = new Trainer(spec, model, batches, output, sampler);
            trainer.Run(CancellationToken.None);
        }
        finally { Directory.Delete(output, recursive: true); }

        Console.WriteLine($"# memory {preset}, batch {batch}, {steps} steps, checkpoint every {spec.CheckpointEvery}, sampled every {every}");
        Console.WriteLine("step   rss MiB   live tensors");
        foreach (var s in sampler.Samples) Console.WriteLine(TrainingBenchmark.Invariant($"{s.Step,5} {s.RssMib,9:F1} {s.LiveTensors,14}"));
        var later = sampler.Samples.Skip(1).ToList();   // the first sample still sees the allocator warming up
        var rssGrowth = later[^1].RssMib - later[0].RssMib;
        var tensorGrowth = later[^1].LiveTensors - later[0].LiveTensors;
        Console.WriteLine(TrainingBenchmark.Invariant($"from step {later[0].Step} to {later[^1].Step}: rss {rssGrowth:+0.0;-0.0} MiB, live tensors {tensorGrowth:+0;-0;0}; peak rss {PeakRssMib():F1} MiB"));
        if (options.GetValue<string>("--json") is { } path)
            File.WriteAllText(path, JsonSerializer.Serialize(new
            {
                suite = "memory", preset, batch, steps, every, checkpoint_every = spec.CheckpointEvery, threads = get_num_threads(),
                samples = sampler.Samples, rss_growth_mib = rssGrowth, live_tensor_growth = tensorGrowth, peak_rss_mib = PeakRssMib(),
            }, TrainingBenchmark.JsonOptions));
        return 0;
    }

    private sealed record Sample(long Step, double RssMib, long LiveTensors);

    /// <summary>Samples on the training thread itself: TorchSharp counts live tensors per thread.</summary>
    private sealed class Sampler : ITrainingObserver
    {
        public List<Sample> Samples { get; } = [];
        public void OnEvent(TrainingEvent trainingEvent) { }
        public void OnCheckpoint(CheckpointInfo checkpoint) { }

        public void OnMetrics(long step, IReadOnlyDictionary<string, double> metrics)
        {
            using var self = Process.GetCurrentProcess();
            Samples.Add(new Sample(step, self.WorkingSet64 / 1048576.0, DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        }
    }

    private static double PeakRssMib()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
    }
}
