using System.CommandLine;
using TpcCma.Cli.CommandLine;
using TpcCma.Data.Sources;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma datasets make-synthetic</c>: writes the deterministic synthetic-shapes dataset.</summary>
public static class DatasetsMakeSyntheticCommand
{
    private static readonly SyntheticShapesOptions Defaults = new();
    private static readonly Option<string> Out = CliOptions.Text("--out", "DIR", "Folder to write the data set into", required: true);
    private static readonly Option<int> Count = CliOptions.Int("--count", "N", "Number of images", Defaults.Count);
    private static readonly Option<int> Size = CliOptions.Int("--size", "S", "Image side in pixels", Defaults.Size);
    private static readonly Option<int> Seed = CliOptions.Int("--seed", "K", "Seed: the same seed writes the same data set", Defaults.Seed);
    private static readonly Option<string> Labels = CliOptions.Choice("--labels", "What a class is", ["shape-and-colour", "shape", "colour"]);
    private static readonly Option<double> TestFraction = CliOptions.Number("--test-fraction", "F", "Share of images in the test split", Defaults.TestFraction);
    private static readonly Option<string> Format = CliOptions.Choice("--format", "An image folder with a manifest, or WebDataset shards", ["folder", "webdataset"]);

    public static CliCommand Command { get; } = new(
        "datasets make-synthetic",
        "Write the synthetic-shapes dataset (coloured shapes with captions), deterministic from the seed",
        [Out, Count, Size, Seed, Labels, TestFraction, Format, ShardDatasetCommands.ShardSize, ShardDatasetCommands.ImageFormat],
        Run);

    private static Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var label = args.GetValue(Labels) switch
        {
            "shape" => ShapeLabel.Shape,
            "colour" => ShapeLabel.Colour,
            _ => ShapeLabel.ShapeAndColour,
        };
        var options = new SyntheticShapesOptions(args.GetValue(Count), args.GetValue(Size), args.GetValue(Seed), label, args.GetValue(TestFraction));
        var outDir = args.GetRequiredValue(Out);
        try { options.Validated(); }
        catch (ArgumentException ex) { throw new CliUsageException(ex.Message); }
        if (args.GetValue(Format) == "webdataset") return Task.FromResult(ShardDatasetCommands.MakeSynthetic(outDir, options, args, ct));
        var dataset = SyntheticShapes.Write(outDir, options, ct);
        Console.WriteLine($"wrote {dataset.Samples.Count} images ({options.Size}x{options.Size}, {dataset.ClassNames.Count} classes, seed {options.Seed}) to {Path.GetFullPath(outDir)}");
        return Task.FromResult(ExitCodes.Ok);
    }
}
