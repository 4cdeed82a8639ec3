using System.CommandLine;
using TorchSharp;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TpcCma.Model;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Bench.Training;

/// <summary>
/// <c>tpccma-bench train</c>: milliseconds per optimiser step of the real <see cref="Trainer"/> (TPC-CMA
/// objective with gradient-aware norms, curriculum, finiteness tracking, logging to a channel observer) and of a
/// bare CLIP step (<see cref="BareClipStep"/>) on the same model and synthetic batches. The two modes alternate
/// in rounds inside one process, so machine load hits both alike. Reports medians, samples/s, model FLOPs and,
/// given the machine's matmul peak, the model FLOP utilisation (MFU).
/// </summary>
internal static class TrainingBenchmark
{
    public static int Run(ParseResult options)
    {
        var preset = options.GetValue<string>("--preset")!;
        var config = ClipConfig.Preset(preset);
        int batch = options.GetValue<int>("--batch"), steps = options.GetValue<int>("--steps"), warmup = options.GetValue<int>("--warmup");
        int rounds = options.GetValue<int>("--rounds"), logEvery = options.GetValue<int>("--log-every");
        var modes = options.GetValue<string>("--modes")!.Split(',', StringSplitOptions.RemoveEmptyEntries);
        if (modes.Except(["trainer", "bare", "parts"]).FirstOrDefault() is { } unknown) throw new ArgumentException($"--modes: unknown mode '{unknown}' (trainer, bare, parts)");
        if (options.GetValue<int>("--threads") is > 0 and var threads) set_num_threads(threads);
        var deviceOptions = DeviceOptions.Parse(options.GetValue<string>("--device")!, options.GetValue<bool>("--bf16"));
        var peak = options.GetValue<double>("--peak-gflops");
        // A long nominal run keeps the curriculum in phase 1 (alpha = 0) for the few steps timed: no phase boundary
        // (and its checkpoint) lands in the window. The objective computes every term and both norms in every phase.
        var spec = new TrainingSpec { Model = preset, BatchSize = batch, Steps = 1_000_000, LogEvery = logEvery, CheckpointEvery = 1_000_000 };
        var flops = ModelFlops.TrainingStep(config, batch, config.ContextLength);

        Console.WriteLine($"# train {preset}, batch {batch}, text length {config.ContextLength}, device {deviceOptions.DeviceName}" +
            $"{(deviceOptions.AutocastType is { } t ? $" autocast {t}" : "")}, torch threads {get_num_threads()}, {steps} timed steps after {warmup} warm-up, {rounds} round(s)");
        if (modes.Contains("parts")) return TimeParts(config, spec, steps, warmup);
        var times = modes.ToDictionary(m => m, _ => new List<double>());
        var cpuTimes = modes.ToDictionary(m => m, _ => new List<double>());
        var roundMedians = modes.ToDictionary(m => m, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
            foreach (var mode in modes)
            {
                var (ms, cpu) = mode == "trainer" ? TimeTrainer(config, spec, deviceOptions, steps, warmup) : TimeBare(config, spec, deviceOptions, steps, warmup);
                times[mode].AddRange(ms);
                cpuTimes[mode].AddRange(cpu);
                roundMedians[mode].Add(Median(ms));
                Console.WriteLine(Invariant($"round {round + 1} {mode,-8} median {Median(ms),9:F1} ms/step  (min {ms.Min():F1}, max {ms.Max():F1}), CPU {Median(cpu):F1} ms/step"));
            }

        var results = modes.ToDictionary(m => m, m => Summary(times[m], cpuTimes[m], roundMedians[m], batch, flops, peak));
        foreach (var (mode, r) in results)
            Console.WriteLine(Invariant($"{mode,-8} median {r.MedianMs,9:F1} ms/step  {r.SamplesPerSecond,8:F1} samples/s  {r.AchievedGflops,7:F1} GFLOP/s  CPU {r.MedianCpuMs:F1} ms/step") +
                (r.Mfu is { } mfu ? Invariant($"  MFU {100 * mfu:F1}% of {peak:F0}") : ""));
        if (results.TryGetValue("trainer", out var full) && results.TryGetValue("bare", out var bare))
            Console.WriteLine(Invariant($"trainer overhead over bare: wall {100 * (full.MedianMs / bare.MedianMs - 1):F1}% (median of per-round ratios {100 * (Median(roundMedians["trainer"].Zip(roundMedians["bare"], (a, b) => a / b).ToList()) - 1):F1}%), CPU time {100 * (full.MedianCpuMs / bare.MedianCpuMs - 1):F1}%"));
        if (options.GetValue<string>("--json") is { } path)
            File.WriteAllText(path, JsonSerializer.Serialize(new
            {
                suite = "train", preset, batch, text_length = config.ContextLength, device = deviceOptions.DeviceName,
                autocast = deviceOptions.AutocastType?.ToString(), threads = get_num_threads(), steps, warmup, rounds,
                flops_per_step = flops, peak_gflops = peak, results,
            }, JsonOptions));
        return 0;
    }

    internal static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    private sealed record ModeResult(double MedianMs, double MinMs, double MaxMs, double MedianCpuMs, int Steps, List<double> RoundMediansMs,
        double SamplesPerSecond, double AchievedGflops, double? Mfu);

    private static ModeResult Summary(List<double> ms, List<double> cpu, List<double> roundMedians, int batch, double flops, double peak)
    {
        var median = Median(ms);
        var gflops = flops / (median / 1000) / 1e9;
        return new ModeResult(median, ms.Min(), ms.Max(), Median(cpu), ms.Count, roundMedians, batch / (median / 1000), gflops, peak > 0 ? gflops / peak : null);
    }

    /// <summary>The real trainer, cancelled after warm-up + timed steps; step times are the gaps between its batch requests.</summary>
    private static (List<double> Wall, List<double> Cpu) TimeTrainer(ClipConfig config, TrainingSpec spec, DeviceOptions device, int steps, int warmup)
    {
        var output = Directory.CreateTempSubdirectory("tpccma-bench-train-").FullName;
        try
        {
            manual_seed(spec.Seed);
            using var model = new ClipModel(config);
            model.to(device.Device);
            using var synthetic = new SyntheticBatchSource(4 * spec.BatchSize, spec.BatchSize, config.ImageResolution, config.ContextLength, config.VocabSize, spec.Seed);
            using var stop = new CancellationTokenSource();
            var timed = new TimedBatchSource(synthetic, warmup + steps + 1, stop);
            using var observer = new ChannelObserver();
            using (var trainer = new Trainer(spec, model, timed, output, observer, device))   // autocast per step, as in jobs
            {
                try { trainer.Run(stop.Token); }
                catch (OperationCanceledException) { }   // how the benchmark ends the run
            }
            return (timed.StepMilliseconds.Skip(warmup).ToList(), timed.StepCpuMilliseconds.Skip(warmup).ToList());
        }
        finally { Directory.Delete(output, recursive: true); }
    }

    private static (List<double> Wall, List<double> Cpu) TimeBare(ClipConfig config, TrainingSpec spec, DeviceOptions device, int steps, int warmup)
    {
        manual_seed(spec.Seed);
        using var model = new ClipModel(config);
        model.to(device.Device).train();
        using var synthetic = new SyntheticBatchSource(4 * spec.BatchSize, spec.BatchSize, config.ImageResolution, config.ContextLength, config.VocabSize, spec.Seed);
        using var step = new BareClipStep(model, spec, device.AutocastType);
        var (ms, cpu) = (new List<double>(), new List<double>());
        for (var i = 0; i < warmup + steps; i++)
        {
            var watch = Stopwatch.StartNew();
            var cpuStart = CpuClock.ProcessMilliseconds();
            step.Step(synthetic, i);
            if (i < warmup) continue;
            ms.Add(watch.Elapsed.TotalMilliseconds);
            cpu.Add(CpuClock.ProcessMilliseconds() - cpuStart);
        }
        return (ms, cpu);
    }

    /// <summary>Where a bare step's time goes: forward, backward, clipping, optimiser (CPU).</summary>
    private static int TimeParts(ClipConfig config, TrainingSpec spec, int steps, int warmup)
    {
        manual_seed(spec.Seed);
        using var model = new ClipModel(config);
        model.train();
        using var synthetic = new SyntheticBatchSource(4 * spec.BatchSize, spec.BatchSize, config.ImageResolution, config.ContextLength, config.VocabSize, spec.Seed);
        using var step = new BareClipStep(model, spec);
        var parts = Enumerable.Range(0, warmup + steps).Select(i => step.StepByPart(synthetic, i)).Skip(warmup).ToList();
        string[] names = ["forward", "backward", "clip", "optimizer"];
        for (var p = 0; p < names.Length; p++)
            Console.WriteLine(Invariant($"{names[p],-10} median {Median(parts.Select(x => x[p]).ToList()),9:F1} ms"));
        return 0;
    }

    internal static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
