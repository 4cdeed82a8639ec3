using System.CommandLine;
using TpcCma.Cli.CommandLine;
using TpcCma.Data;
using TpcCma.Data.Shards;
using TpcCma.Data.Sources;

namespace TpcCma.Cli.Commands;

/// <summary>
/// The WebDataset side of the <c>datasets</c> commands: the full validation pass over shards, and the synthetic
/// source written as shards. Local shards only: <c>s3://</c> shards are read by the service, which holds the S3 settings.
/// </summary>
internal static class ShardDatasetCommands
{
    public static readonly Option<int> Workers = CliOptions.Int("--workers", "N", "Shards read in parallel", Math.Max(1, Environment.ProcessorCount), min: 1);
    public static readonly Option<int> ShardSize = CliOptions.Int("--shard-size", "N", "Samples per shard", 1000, min: 1);
    public static readonly Option<string> ImageFormat = CliOptions.Choice("--image-format", "How images are stored in the shards", ["png", "jpeg", "jpg"]);

    /// <summary>Reads every shard, decodes every image, prints every problem as <c>00012.tar!KEY.jpg: message</c> and progress on stderr.</summary>
    public static int Validate(string location, ParseResult args, CancellationToken ct)
    {
        var workers = args.GetValue(Workers);
        var format = Format(args);
        var set = ShardSet.Open(location, format: format);
        var lastShown = DateTime.MinValue;
        var progress = new SynchronousProgress<ShardScanProgress>(p =>
        {
            if (p.ShardsDone < p.ShardsTotal && DateTime.UtcNow - lastShown < TimeSpan.FromSeconds(2)) return;
            lastShown = DateTime.UtcNow;
            Console.Error.WriteLine($"validate: {p.ShardsDone}/{p.ShardsTotal} shards, {p.Samples} samples, {p.Errors} problem(s)");
        });
        var report = ShardScanner.Validate(set, workers, progress, ct);
        foreach (var error in report.Errors) Console.WriteLine(error);
        if (report.ErrorCount > 0) Console.WriteLine("by kind: " + string.Join(", ", report.ErrorsByKind.Select(k => $"{k.Key} {k.Value}")));
        Console.WriteLine(report.ErrorCount == 0
            ? $"valid: {report.Usable} samples in {report.Shards.Count} shards, {(set.DeclaredClassNames ?? report.Labels).Count} classes"
            : $"invalid: {report.ErrorCount} error(s); skipping them keeps {report.Usable} of {report.Samples} samples");
        return report.ErrorCount == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary><c>--caption-field NAME</c>: captions from that field of <c>KEY.json</c> rather than <c>KEY.txt</c>.</summary>
    public static WebDatasetFormat? Format(ParseResult args) =>
        args.GetValue(DatasetArgs.CaptionField) is { } field ? new WebDatasetFormat(CaptionField: field) : null;

    public static int MakeSynthetic(string outDir, SyntheticShapesOptions options, ParseResult args, CancellationToken ct)
    {
        var shardSize = args.GetValue(ShardSize);
        var imageFormat = args.GetValue(ImageFormat) == "png" ? ShardImageFormat.Png : ShardImageFormat.Jpeg;
        var shards = ShardConversion.WriteSynthetic(outDir, options, shardSize, imageFormat, ct: ct);
        Console.WriteLine($"wrote {options.Count} samples ({options.Size}x{options.Size} {imageFormat}, seed {options.Seed}) in {shards} shard(s) of up to {shardSize} to {Path.GetFullPath(outDir)}");
        return ExitCodes.Ok;
    }

    /// <summary>Runs the callback on the reporting thread (the scan's workers), unlike <see cref="Progress{T}"/>.</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        private readonly Lock gate = new();

        public void Report(T value)
        {
            lock (gate) report(value);
        }
    }
}
