using System.CommandLine;
using System.Globalization;
using TpcCma.Data;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma datasets stats PATH</c>: sample, split, class, caption and image-size counts.</summary>
public static class DatasetsStatsCommand
{
    public static CliCommand Command { get; } = new(
        "datasets stats",
        "Summarise a dataset: samples, splits, classes, captions, image sizes",
        [DatasetArgs.Path, .. DatasetArgs.Loading],
        Run);

    private static Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var path = args.GetRequiredValue(DatasetArgs.Path);
        var options = DatasetArgs.Options(args, ImageCheck.Header);
        ImageTextDataset dataset;
        try { dataset = ImageTextDataset.Open(path, options); }
        catch (DatasetValidationException ex)
        {
            Console.Error.WriteLine($"{ex.Errors.Count} error(s); run 'tpccma datasets validate' to list them, or pass --policy skip");
            return Task.FromResult(ExitCodes.Failed);
        }
        var samples = dataset.Samples;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"root: {dataset.Root}");
        Console.WriteLine($"samples: {samples.Count} (entries {dataset.Report.Entries}, skipped {dataset.Report.Skipped})");
        foreach (var split in samples.GroupBy(s => s.Split ?? "(none)").OrderBy(g => g.Key, StringComparer.Ordinal))
            Console.WriteLine($"split {split.Key}: {split.Count()}");
        var labelled = samples.Where(s => s.Label is not null).ToList();
        Console.WriteLine($"classes: {dataset.ClassNames.Count} ({labelled.Count} labelled samples)");
        foreach (var group in labelled.GroupBy(s => s.Label!).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(10))
            Console.WriteLine($"  {group.Key}: {group.Count()}");
        var perImage = samples.Select(s => s.Captions.Count).ToList();
        var lengths = samples.SelectMany(s => s.Captions).Select(c => c.Length).ToList();
        Console.WriteLine(string.Create(inv, $"captions per image: min {perImage.Min()}, mean {perImage.Average():F2}, max {perImage.Max()}"));
        Console.WriteLine(string.Create(inv, $"caption characters: min {lengths.Min()}, mean {lengths.Average():F1}, max {lengths.Max()}"));
        Console.WriteLine($"templates: {string.Join(" | ", dataset.PromptTemplates)}");
        var headers = samples.AsParallel().AsOrdered().WithCancellation(ct).Select(s => ImageLoader.CheckHeader(s.ImagePath)).ToList();
        foreach (var size in headers.GroupBy(h => $"{h.Format} {h.Width}x{h.Height}").OrderByDescending(g => g.Count()).Take(5))
            Console.WriteLine($"images {size.Key}: {size.Count()}");
        return Task.FromResult(ExitCodes.Ok);
    }
}
