using TpcCma.Data.Sources;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma datasets import-emoji</c>: builds the emoji dataset from the emoji-datasource npm packages.</summary>
public static class DatasetsImportEmojiCommand
{
    public static CliCommand Command { get; } = new(
        "datasets import-emoji",
        "Import emoji images (npm emoji-datasource-*) as a dataset: train on one style, evaluate on another",
        "datasets import-emoji --out DIR [--train-style twitter] [--eval-style google] [--labels subcategory|category] [--cache DIR] [--version 16.0.0]",
        Run);

    private static Task<int> Run(CliArgs args, CancellationToken ct)
    {
        var defaults = new EmojiImportOptions();
        var labels = args.Optional("labels") switch
        {
            null or "subcategory" => EmojiLabel.Subcategory,
            "category" => EmojiLabel.Category,
            var other => throw new CliUsageException($"--labels must be subcategory or category, got '{other}'"),
        };
        var options = new EmojiImportOptions(args.Optional("train-style") ?? defaults.TrainStyle, args.Optional("eval-style") ?? defaults.EvalStyle,
            labels, args.Optional("version") ?? defaults.Version, args.Optional("cache"));
        var outDir = args.Required("out");
        DatasetArgs.RejectUnknown(args);
        try { options.Validated(); }
        catch (ArgumentException ex) { throw new CliUsageException(ex.Message); }
        try
        {
            var dataset = EmojiImporter.Import(outDir, options, ct);
            Console.WriteLine($"imported {dataset.Split("train").Samples.Count} {options.TrainStyle} (train) and {dataset.Split("test").Samples.Count} {options.EvalStyle} (test) images, " +
                $"{dataset.ClassNames.Count} classes, to {Path.GetFullPath(outDir)}");
            return Task.FromResult(ExitCodes.Ok);
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return Task.FromResult(ExitCodes.Failed);
        }
    }
}
