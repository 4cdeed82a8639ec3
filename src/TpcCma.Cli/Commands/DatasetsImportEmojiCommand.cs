using System.CommandLine;
using TpcCma.Cli.CommandLine;
using TpcCma.Data.Sources;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma datasets import-emoji</c>: builds the emoji dataset from the emoji-datasource npm packages.</summary>
public static class DatasetsImportEmojiCommand
{
    private static readonly EmojiImportOptions Defaults = new();
    private static readonly Option<string> Out = CliOptions.Text("--out", "DIR", "Folder to write the data set into", required: true);
    private static readonly Option<string> TrainStyle = CliOptions.Text("--train-style", "STYLE", "Emoji style of the train split", Defaults.TrainStyle);
    private static readonly Option<string> EvalStyle = CliOptions.Text("--eval-style", "STYLE", "Emoji style of the test split", Defaults.EvalStyle);
    private static readonly Option<string> Labels = CliOptions.Choice("--labels", "What a class is", ["subcategory", "category"]);
    private static readonly Option<string> Cache = CliOptions.Text("--cache", "DIR", "Where the npm packages are kept between runs");
    private static readonly Option<string> Version = CliOptions.Text("--version", "VERSION", "Version of the emoji-datasource packages", Defaults.Version);

    public static CliCommand Command { get; } = new(
        "datasets import-emoji",
        "Import emoji images (npm emoji-datasource-*) as a dataset: train on one style, evaluate on another",
        [Out, TrainStyle, EvalStyle, Labels, Cache, Version],
        Run);

    private static Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var labels = args.GetValue(Labels) == "category" ? EmojiLabel.Category : EmojiLabel.Subcategory;
        var options = new EmojiImportOptions(args.GetValue(TrainStyle)!, args.GetValue(EvalStyle)!, labels, args.GetValue(Version)!, args.GetValue(Cache));
        var outDir = args.GetRequiredValue(Out);
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
