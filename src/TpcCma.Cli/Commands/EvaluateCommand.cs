using System.CommandLine;
using System.Text.Json;
using TpcCma.Checkpoints;
using TpcCma.Cli.CommandLine;
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
    private static readonly Option<string> Dataset = CliOptions.Text("--dataset", "PATH", "The data set to evaluate on", required: true);
    private static readonly Option<string> Split = CliOptions.Text("--split", "NAME", "The split to evaluate (default: the held-out one)");
    private static readonly Option<int> CaptioningSteps = CliOptions.Int("--captioning-steps", "N", "Steps of the zero-shot captioning decoder", new EvalSpec().CaptioningSteps, min: 1);
    private static readonly Option<int> CaptioningSeeds = CliOptions.Int("--captioning-seeds", "N", "Decoder seeds, 1 to 10", new EvalSpec().CaptioningSeeds);
    private static readonly Option<bool> Centered = CliOptions.Flag("--centered", "Evaluate the mean-centered model");
    private static readonly Option<string> Out = CliOptions.Text("--out", "REPORT.json", "The JSON report to write", required: true);

    public static CliCommand Command { get; } = new(
        "evaluate",
        "Evaluate a model on a data set (gaps, zero-shot accuracy, retrieval, ARI, captioning CIDEr-D) into a JSON report",
        [.. ModelArgs.Loading, .. ModelArgs.Computing, Dataset, Split, CaptioningSteps, CaptioningSeeds, Centered, Out],
        Run);

    private static Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var reference = ModelArgs.Reference(args);
        var options = ModelArgs.Options(args);
        var datasetPath = args.GetRequiredValue(Dataset);
        var split = args.GetValue(Split);
        var outPath = args.GetRequiredValue(Out);
        var centered = args.GetValue(Centered);
        var eval = new EvalSpec { CaptioningSteps = args.GetValue(CaptioningSteps), CaptioningSeeds = args.GetValue(CaptioningSeeds), TrainSample = 0 };
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
