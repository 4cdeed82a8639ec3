using System.CommandLine;
using TpcCma.Cli.CommandLine;
using TpcCma.Cli.Rendering;
using TpcCma.Data.Sources;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma datasets import-icons</c>: builds the icon dataset from the <c>@iconify/json</c> npm package.</summary>
public static class DatasetsImportIconsCommand
{
    private static readonly IconImportOptions Defaults = new();
    private static readonly Option<string> Out = CliOptions.Text("--out", "DIR", "Folder to write the data set into", required: true);
    private static readonly Option<string> Sets = CliOptions.Text("--sets", "a,b,...", "Only these icon sets (default: every open-licence set)");
    private static readonly Option<string> ExcludeSets = CliOptions.Text("--exclude-sets", "a,b,...", "Leave these icon sets out");
    private static readonly Option<string> TestSets = CliOptions.Text("--test-sets", "a,b,...", "These whole sets form the test split (default: chosen by --test-fraction)");
    private static readonly Option<int> Size = CliOptions.Int("--size", "PIXELS", "Image side the icons are drawn at", Defaults.Size);
    private static readonly Option<int> MinSets = CliOptions.Int("--min-sets", "N", "A concept becomes a class when at least N sets draw it", Defaults.MinSets);
    private static readonly Option<int> Classes = CliOptions.Int("--classes", "N", "Most classes kept", Defaults.Classes);
    private static readonly Option<int> MaxPerSetConcept = CliOptions.Int("--max-per-set-concept", "N", "Most icons one set gives one concept", Defaults.MaxPerSetConcept);
    private static readonly Option<double> TestFraction = CliOptions.Number("--test-fraction", "F", "Share of sets held out as the test split", Defaults.TestFraction);
    private static readonly Option<double> ValFraction = CliOptions.Number("--val-fraction", "F", "Share of the remaining icons in the val split", Defaults.ValFraction);
    private static readonly Option<int> Workers = CliOptions.Int("--workers", "N", "Drawing threads (0: one per core)", 0);
    private static readonly Option<string> Cache = CliOptions.Text("--cache", "DIR", "Where the npm package and drawn icons are kept between runs");
    private static readonly Option<string> Version = CliOptions.Text("--version", "VERSION", "Version of the @iconify/json package", Defaults.Version);

    public static CliCommand Command { get; } = new(
        "datasets import-icons",
        "Import open-licence icon sets (npm @iconify/json) as a dataset: classes are concepts many sets draw, test = whole unseen sets",
        [Out, Sets, ExcludeSets, TestSets, Size, MinSets, Classes, MaxPerSetConcept, TestFraction, ValFraction, Workers, Cache, Version],
        Run);

    private static Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var options = new IconImportOptions(
            List(args, Sets), List(args, ExcludeSets), List(args, TestSets),
            args.GetValue(Size), args.GetValue(MinSets), args.GetValue(Classes), args.GetValue(MaxPerSetConcept),
            args.GetValue(TestFraction), args.GetValue(ValFraction), args.GetValue(Version)!, args.GetValue(Cache), Workers: args.GetValue(Workers));
        var outDir = args.GetRequiredValue(Out);
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

    private static IReadOnlyList<string>? List(ParseResult args, Option<string> option) =>
        args.GetValue(option) is { } text ? [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : null;
}
