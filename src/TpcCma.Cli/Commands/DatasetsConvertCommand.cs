using System.CommandLine;
using TpcCma.Cli.CommandLine;
using TpcCma.Data;
using TpcCma.Data.Shards;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma datasets convert SRC --out DIR</c>: a folder/manifest/archive data set to WebDataset shards, or shards to a folder.</summary>
public static class DatasetsConvertCommand
{
    private static readonly Argument<string> Source = new("SRC") { Description = "A folder, manifest or archive data set, or WebDataset shards" };
    private static readonly Option<string> Out = CliOptions.Text("--out", "DIR", "An empty or new folder to write into", required: true);

    public static CliCommand Command { get; } = new(
        "datasets convert",
        "Convert a folder/manifest/archive dataset to WebDataset shards, or shards to a folder with manifest.jsonl",
        [Source, Out, ShardDatasetCommands.ShardSize, .. DatasetArgs.Loading, DatasetArgs.CaptionField],
        Run);

    private static Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var source = args.GetRequiredValue(Source);
        var outDir = args.GetRequiredValue(Out);
        var shardSize = args.GetValue(ShardDatasetCommands.ShardSize);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new CliUsageException($"--out {outDir} is not empty; convert writes into an empty or new folder");
        try
        {
            if (ShardSet.IsShardSet(source))
            {
                var format = ShardDatasetCommands.Format(args);
                var policy = DatasetArgs.Options(args, ImageCheck.Header).Policy;
                var (written, skipped) = ShardConversion.ToFolder(ShardSet.Open(source, format: format), outDir, policy, ct);
                foreach (var error in skipped) Console.WriteLine($"skipped {error}");
                Console.WriteLine($"wrote {written} samples to {Path.GetFullPath(outDir)} (manifest.jsonl){(skipped.Count > 0 ? $", skipped {skipped.Count}" : "")}");
                return Task.FromResult(ExitCodes.Ok);
            }
            var options = DatasetArgs.Options(args, ImageCheck.Header);
            var dataset = ImageTextDataset.Open(source, options);
            var shards = ShardConversion.FromDataset(dataset, outDir, shardSize, ct);
            Console.WriteLine($"wrote {dataset.Samples.Count} samples in {shards} shard(s) of up to {shardSize} to {Path.GetFullPath(outDir)}" +
                (dataset.Report.Skipped > 0 ? $" (skipped {dataset.Report.Skipped} with problems)" : ""));
            return Task.FromResult(ExitCodes.Ok);
        }
        catch (DatasetValidationException ex)
        {
            foreach (var error in ex.Errors) Console.WriteLine(error);
            Console.WriteLine($"not converted: {ex.Errors.Count} error(s); --policy skip leaves those samples out");
            return Task.FromResult(ExitCodes.Failed);
        }
        catch (ShardReadException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return Task.FromResult(ExitCodes.Failed);
        }
    }
}
