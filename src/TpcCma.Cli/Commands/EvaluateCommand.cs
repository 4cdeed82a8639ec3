using System.Text.Json;
using TpcCma.Checkpoints;
using TpcCma.Data;
using TpcCma.Runs;
using TpcCma.Training;

namespace TpcCma.Cli.Commands;

/// <summary>
/// <c>tpccma evaluate</c>: the evaluation protocol of docs/METHOD.md on one model and data set, offline: gap
/// geometry, zero-shot accuracy, retrieval, joint-clustering ARI and zero-shot captioning CIDEr-D, on the
/// held-out split (or the one named), written as one JSON report per split.
/// </summary>
public static class EvaluateCommand
{
    public static CliCommand Command { get; } = new(
        "evaluate",
        "Evaluate a model on a data set (gaps, zero-shot accuracy, retrieval, ARI, captioning CIDEr-D) into a JSON report",
        "evaluate " + ModelArgs.Usage + " --dataset PATH [--split NAME] [--captioning-steps N] [--captioning-seeds N] [--centered] --out REPORT.json",
        Run, "centered", ModelArgs.Bf16Flag);

    private static Task<int> Run(CliArgs args, CancellationToken ct)
    {
        var reference = ModelArgs.Reference(args);
        var options = ModelArgs.Options(args);
        var datasetPath = args.Required("dataset");
        var split = args.Optional("split");
        var outPath = args.Required("out");
        var centered = args.Flag("centered");
        var eval = new EvalSpec
        {
            CaptioningSteps = args.Int("captioning-steps", new EvalSpec().CaptioningSteps),
            CaptioningSeeds = args.Int("captioning-seeds", new EvalSpec().CaptioningSeeds), TrainSample = 0,
        };
        ModelArgs.RejectUnknown(args);
        if (eval.CaptioningSteps < 1) throw new CliUsageException("--captioning-steps must be >= 1");
        if (eval.CaptioningSeeds is < 1 or > 10) throw new CliUsageException($"--captioning-seeds must be from 1 to 10, got {eval.CaptioningSeeds}");

        var data = RunData.Open(datasetPath);
        if (split is not null)
        {
            var all = ImageTextDataset.Open(datasetPath, new DatasetOptions(ImageCheck: ImageCheck.Exists));
            if (!all.SplitNames.Contains(split)) throw new CliUsageException($"dataset has no split '{split}' (splits: {string.Join(", ", all.SplitNames)})");
            data = data with { HeldOut = all.Split(split), HeldOutName = split, OtherHeldOut = [] };
        }
        using var loaded = ModelLoader.Load(reference, options);
        var config = loaded.Config;
        var processor = new ClipImageProcessor(ImageProcessorConfig.For(config));
        var evaluator = new RunEvaluator(loaded.Model, loaded.RequireTokenizer(), processor, data, eval, seed: 0, loaded.Device.AutocastType);   // --bf16 on CUDA
        var reports = evaluator.Evaluate(Path.GetFileName(reference.TrimEnd('/')), captioning: true, centered);
        File.WriteAllText(outPath, JsonSerializer.Serialize(reports, TpcCma.Evaluation.EvaluationReport.JsonOptions));
        foreach (var report in reports) Console.WriteLine(TrainProgress.Describe(centered ? "centered" : "model", report));
        Console.WriteLine($"report: {Path.GetFullPath(outPath)}");
        return Task.FromResult(ExitCodes.Ok);
    }
}
