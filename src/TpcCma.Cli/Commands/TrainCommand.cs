using System.CommandLine;
using System.Globalization;
using TorchSharp;
using TpcCma.Checkpoints;
using TpcCma.Cli.CommandLine;
using TpcCma.Data;
using TpcCma.Model;
using TpcCma.Runs;
using TpcCma.Training;

namespace TpcCma.Cli.Commands;

/// <summary>
/// <c>tpccma train</c>: runs a job spec (align or pretrain) to the end, resuming from the newest checkpoint in
/// the output folder. <c>"dataset": "synthetic:N"</c> trains on N random pairs (smoke runs, benchmarks).
/// </summary>
public static class TrainCommand
{
    private const string SyntheticPrefix = "synthetic:";

    private static readonly Option<string> Spec = CliOptions.Text("--spec", "JOB.json", "The job spec (the body of POST /v1/jobs's spec)", required: true);
    private static readonly Option<string> Out = CliOptions.Text("--out", "DIR", "Output folder: checkpoints, final model, reports; a run there resumes", required: true);
    private static readonly Option<int> Threads = CliOptions.Int("--threads", "N", "Torch threads (0: torch's default, one per core)", 0, min: 0);

    public static CliCommand Command { get; } = new(
        "train",
        "Fine-tune (TPC-CMA curriculum) or pre-train a CLIP model from a job spec; resumes from the output folder",
        [Spec, Out, Threads, ModelArgs.Tokenizer, ModelArgs.Device, .. ModelArgs.Hub],
        Run);

    private static Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var specPath = args.GetRequiredValue(Spec);
        var outDir = args.GetRequiredValue(Out);
        var threads = args.GetValue(Threads);
        // Device and hub; the model and tokenizer come from the spec, and so does the precision (absent: bf16 on CUDA).
        var options = ModelArgs.Options(args);
        options = options with { Device = options.Device! with { Bf16Autocast = true } };
        var spec = TrainingSpec.FromJson(File.ReadAllText(specPath));
        if (spec.Validate() is { Count: > 0 } errors)
            throw new CliUsageException($"invalid job spec {specPath}: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        if (spec.Kind == JobKind.Evaluate) throw new CliUsageException($"{specPath} has kind evaluate: nothing to train");
        if (spec.Dataset is null) throw new CliUsageException($"{specPath}: dataset is required for training");
        if (threads > 0) torch.set_num_threads(threads);

        var progress = new TrainProgress(Console.Out, spec.Steps);
        Console.WriteLine($"output {Path.GetFullPath(outDir)}, {torch.get_num_threads()} threads");
        try
        {
            if (spec.Dataset.StartsWith(SyntheticPrefix, StringComparison.Ordinal))
                PrintSummary(RunOnSyntheticPairs(spec, options, outDir, progress, ct));
            else
            {
                // The same run a service worker executes: data splits, evaluation at base, phase ends and final.
                var run = TrainingRun.Execute(new RunRequest(spec, outDir, options.Device, options.Hub), progress, ct);
                PrintSummary(run.Training);
                Console.WriteLine($"  final model: {run.FinalModelDirectory}");
                foreach (var e in run.Evaluations) Console.WriteLine($"  {TrainProgress.Describe(e.Label, e.Report)}");
            }
            return Task.FromResult(ExitCodes.Ok);
        }
        catch (TrainingDivergedException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}; the last good checkpoint is kept in {Path.GetFullPath(outDir)}");
            return Task.FromResult(ExitCodes.Failed);
        }
    }

    /// <summary>Random pairs, no data on disk: smoke runs and benchmarks of the trainer alone (no evaluation).</summary>
    private static TrainingResult RunOnSyntheticPairs(TrainingSpec spec, ModelLoadOptions options, string outDir, TrainProgress progress, CancellationToken ct)
    {
        torch.manual_seed(spec.Seed);   // random initialisation of a preset is reproducible from the spec
        using var loaded = ModelLoader.Load(spec.InitWeights ?? spec.Model, options with { TokenizerPath = spec.Tokenizer ?? options.TokenizerPath });
        var config = loaded.Config;
        if (!int.TryParse(spec.Dataset![SyntheticPrefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var pool) || pool < spec.BatchSize)
            throw new CliUsageException($"dataset '{spec.Dataset}': synthetic:N needs a pool size N >= batch_size ({spec.BatchSize})");
        var batches = new SyntheticBatchSource(pool, spec.BatchSize, config.ImageResolution, config.ContextLength, config.VocabSize, spec.Seed);
        using var trainer = new Trainer(spec, loaded.Model, batches, Path.Combine(outDir, "checkpoints"), progress, loaded.Device);
        return trainer.Run(ct);
    }

    private static void PrintSummary(TrainingResult result)
    {
        Console.WriteLine($"done: {result.Steps} steps");
        foreach (var t in result.Transitions) Console.WriteLine($"  phase {t.From} -> {t.To} at step {t.Step} ({t.Reason})");
        if (result.LastMetrics is { } m)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  final: loss {m["loss"]:F4} clip {m["clip"]:F4} cent {m["cent"]:F4} dist {m["dist"]:F4} alpha {m["alpha"]:F3} w {m["w"]:G3} scale {m["logit_scale"]:F1}"));
        if (result.LastCheckpoint is { } c) Console.WriteLine($"  weights: {Path.Combine(c.Directory, CheckpointStore.WeightsFile)} (sha256 {c.WeightsSha256})");
    }
}
