using TpcCma.Data.Sources;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma datasets make-synthetic</c>: writes the deterministic synthetic-shapes dataset.</summary>
public static class DatasetsMakeSyntheticCommand
{
    public static CliCommand Command { get; } = new(
        "datasets make-synthetic",
        "Write the synthetic-shapes dataset (coloured shapes with captions), deterministic from the seed",
        "datasets make-synthetic --out DIR [--count N] [--size S] [--seed K] [--labels shape-and-colour|shape|colour] [--test-fraction F] [--format folder|webdataset] [--shard-size N] [--image-format png|jpeg]",
        Run);

    private static Task<int> Run(CliArgs args, CancellationToken ct)
    {
        var defaults = new SyntheticShapesOptions();
        var label = args.Optional("labels") switch
        {
            null or "shape-and-colour" => ShapeLabel.ShapeAndColour,
            "shape" => ShapeLabel.Shape,
            "colour" => ShapeLabel.Colour,
            var other => throw new CliUsageException($"--labels must be shape-and-colour, shape or colour, got '{other}'"),
        };
        var options = new SyntheticShapesOptions(args.Int("count", defaults.Count), args.Int("size", defaults.Size), args.Int("seed", defaults.Seed),
            label, args.Double("test-fraction", defaults.TestFraction));
        var outDir = args.Required("out");
        var webDataset = args.Optional("format") switch
        {
            null or "folder" => false,
            "webdataset" => true,
            var other => throw new CliUsageException($"--format must be folder or webdataset, got '{other}'"),
        };
        try { options.Validated(); }
        catch (ArgumentException ex) { throw new CliUsageException(ex.Message); }
        if (webDataset) return Task.FromResult(ShardDatasetCommands.MakeSynthetic(outDir, options, args, ct));
        DatasetArgs.RejectUnknown(args);
        var dataset = SyntheticShapes.Write(outDir, options, ct);
        Console.WriteLine($"wrote {dataset.Samples.Count} images ({options.Size}x{options.Size}, {dataset.ClassNames.Count} classes, seed {options.Seed}) to {Path.GetFullPath(outDir)}");
        return Task.FromResult(ExitCodes.Ok);
    }
}
