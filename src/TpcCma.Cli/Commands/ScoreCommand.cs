using System.CommandLine;
using TpcCma.Cli.CommandLine;
using TpcCma.Evaluation;

namespace TpcCma.Cli.Commands;

/// <summary>
/// <c>tpccma score --cases FILE.json</c>: runs metric cases (ARI, CIDEr-D, gap geometry, k-means ARI) and
/// prints <c>[{"id", "kind", "result", "pass"}]</c>. Exit 0 when no case fails, 1 when one does, 2 for a file
/// that cannot be read or is malformed.
/// </summary>
public static class ScoreCommand
{
    private static readonly Option<string> Cases = CliOptions.Text("--cases", "FILE.json", "The metric cases to run", required: true);

    public static CliCommand Command { get; } = new(
        "score",
        "Compute evaluation metrics for the cases in a JSON file and check expected values",
        [Cases],
        Run);

    private static Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var path = args.GetRequiredValue(Cases);

        var cases = MetricCases.Load(path);
        var results = new List<MetricCaseResult>(cases.Count);
        foreach (var metricCase in cases)
        {
            ct.ThrowIfCancellationRequested();
            results.Add(MetricCases.Run(metricCase));
        }
        Console.WriteLine(MetricCases.ToJson(results));
        var failed = results.Where(r => r.Pass == false).Select(r => r.Id).ToList();
        if (failed.Count > 0) Console.Error.WriteLine($"{failed.Count} of {results.Count} cases failed: {string.Join(", ", failed)}");
        return Task.FromResult(failed.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed);
    }
}
