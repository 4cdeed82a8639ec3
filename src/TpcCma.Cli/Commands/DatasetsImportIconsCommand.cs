using TpcCma.Cli.Rendering;
using TpcCma.Data.Sources;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma datasets import-icons</c>: builds the icon dataset from the <c>@iconify/json</c> npm package.</summary>
public static class DatasetsImportIconsCommand
{
    public static CliCommand Command { get; } = new(
        "datasets import-icons",
        "Import open-licence icon sets (npm @iconify/json) as a dataset: classes are concepts many sets draw, test = whole unseen sets",
        "datasets import-icons --out DIR [--sets a,b,...] [--exclude-sets a,b,...] [--test-sets a,b,...] [--size 48] [--min-sets 10] [--classes 100] " +
        "[--max-per-set-concept 3] [--test-fraction 0.2] [--val-fraction 0.1] [--workers N] [--cache DIR] [--version 2.2.535]",
        Run);

    private static Task<int> Run(CliArgs args, CancellationToken ct)
    {
        var defaults = new IconImportOptions();
        var options = new IconImportOptions(
            List(args, "sets"), List(args, "exclude-sets"), List(args, "test-sets"),
            args.Int("size", defaults.Size), args.Int("min-sets", defaults.MinSets), args.Int("classes", defaults.Classes),
            args.Int("max-per-set-concept", defaults.MaxPerSetConcept), args.Double("test-fraction", defaults.TestFraction),
            args.Double("val-fraction", defaults.ValFraction), args.Optional("version") ?? defaults.Version, args.Optional("cache"),
            Workers: args.Int("workers", 0));
        var outDir = args.Required("out");
        DatasetArgs.RejectUnknown(args);
        try { options.Validated(); }
        catch (ArgumentException ex) { throw new CliUsageException(ex.Message); }
        try
        {
            var result = IconImporter.Import(outDir, options, SkiaSvgRenderer.Renderer, ct);
            var dataset = result.Dataset;
            int Count(string split) => dataset.Samples.Count(s => s.Split == split);
            Console.WriteLine($"imported {Count("train")} train, {Count("val")} val and {Count("test")} test (unseen sets) icons, {dataset.ClassNames.Count} classes, to {Path.GetFullPath(outDir)} " +
                $"({result.Rendered} drawn, {result.Cached} from the cache, {result.Skipped.Count} skipped)");
            foreach (var skipped in result.Skipped.Take(20)) Console.Error.WriteLine($"skipped {skipped.Icon}: {skipped.Reason}");
            if (result.Skipped.Count > 20) Console.Error.WriteLine($"... and {result.Skipped.Count - 20} more (all listed in dataset.json)");
            return Task.FromResult(ExitCodes.Ok);
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return Task.FromResult(ExitCodes.Failed);
        }
    }

    private static IReadOnlyList<string>? List(CliArgs args, string name) =>
        args.Optional(name) is { } text ? [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : null;
}
