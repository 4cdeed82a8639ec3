using System.CommandLine;
using TpcCma.Data;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma datasets validate PATH</c>: decodes every image and lists every problem as <c>location: message</c>.</summary>
public static class DatasetsValidateCommand
{
    public static CliCommand Command { get; } = new(
        "datasets validate",
        "Check a dataset (folder, manifest, archive or WebDataset shards) and list every problem",
        [DatasetArgs.Path, .. DatasetArgs.Loading, ShardDatasetCommands.Workers, DatasetArgs.CaptionField],
        Run);

    private static Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var path = args.GetRequiredValue(DatasetArgs.Path);
        if (Data.Shards.ShardSet.IsShardSet(path)) return Task.FromResult(ShardDatasetCommands.Validate(path, args, ct));
        var options = DatasetArgs.Options(args, ImageCheck.Decode) with { MaxReportedErrors = int.MaxValue };
        try
        {
            var dataset = ImageTextDataset.Open(path, options);
            foreach (var error in dataset.Report.Errors) Console.WriteLine(error);
            var report = dataset.Report;
            Console.WriteLine(report.ErrorCount == 0
                ? $"valid: {report.Kept} samples, {dataset.ClassNames.Count} classes"
                : $"invalid: {report.ErrorCount} error(s); skipping them keeps {report.Kept} of {report.Entries} entries");
            return Task.FromResult(report.ErrorCount == 0 ? ExitCodes.Ok : ExitCodes.Failed);
        }
        catch (DatasetValidationException ex)
        {
            foreach (var error in ex.Errors) Console.WriteLine(error);
            Console.WriteLine($"invalid: {ex.Errors.Count} error(s)");
            return Task.FromResult(ExitCodes.Failed);
        }
    }
}
