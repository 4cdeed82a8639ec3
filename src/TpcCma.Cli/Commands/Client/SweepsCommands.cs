using System.Diagnostics;

namespace TpcCma.Cli.Commands.Client;

/// <summary><c>tpccma sweeps ...</c>: submit a sweep over alpha_target values (and wait for all its jobs), show one with its report.</summary>
public static class SweepsCommands
{
    private static readonly Argument<string> RequestFile = new("FILE") { Description = "The request body as JSON ('-': standard input)" };
    private static readonly Argument<string> Id = new("ID") { Description = "The sweep's id" };
    private static readonly Option<string> Out = CliOptions.Text("--out", "FILE", "Write the results here (default: standard output)");

    public static IReadOnlyList<CliCommand> All { get; } =
    [
        ClientCommand.Create("sweeps submit", "Submit a sweep (the POST /v1/sweeps body in FILE); --wait exits with its outcome",
            [RequestFile, JobWaiter.Wait, JobWaiter.TimeoutOption], Submit, waits: true),
        ClientCommand.Create("sweeps get", "Show a sweep, its jobs and its report", [Id], Get),
        ClientCommand.Create("sweeps results", "Write a sweep's machine-readable results (GET /v1/sweeps/ID/results.json) to FILE or stdout",
            [Id, Out], Results),
    ];

    private static async Task<int> Submit(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var body = ClientCommand.ReadJsonFile(args.GetRequiredValue(RequestFile));
        var wait = args.GetValue(JobWaiter.Wait);
        var timeout = JobWaiter.Timeout(args);
        var sweep = await client.PostAsync("/v1/sweeps", body, ct);
        if (!wait)
        {
            output.Document(sweep, () => PrintSweep(output, sweep));
            return ExitCodes.Ok;
        }
        var id = sweep["id"]!.GetValue<string>();
        output.Log.WriteLine($"submitted sweep {id} with {sweep["jobs"]?.AsArray().Count ?? 0} jobs");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            sweep = await client.GetAsync($"/v1/sweeps/{id}", ct, timeout - clock.Elapsed);
            var status = sweep["status"]?.GetValue<string>();
            var jobs = JobsOf(sweep).ToList();
            var done = jobs.Count(j => JobWaiter.IsTerminal(j["status"]?.GetValue<string>()));
            output.Progress(jobs.Count == 0 ? 0 : (double)done / jobs.Count, $"sweep {id[..8]} {status}: {done}/{jobs.Count} jobs ended");
            if (JobWaiter.IsTerminal(status))
            {
                output.EndProgress();
                output.Document(sweep, () => PrintSweep(output, sweep));
                return JobWaiter.ExitCodeOf(status);
            }
            if (timeout is { } limit && clock.Elapsed >= limit)
            {
                output.EndProgress();
                output.Errors.WriteLine($"timed out: sweep {id} is still {status} after {limit.TotalSeconds:F0} s");
                return ExitCodes.TimedOut;
            }
            await Task.Delay(JobWaiter.PollInterval, ct);
        }
    }

    private static async Task<int> Get(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var id = args.GetRequiredValue(Id);
        var sweep = await client.GetAsync($"/v1/sweeps/{Uri.EscapeDataString(id)}", ct);
        output.Document(sweep, () => PrintSweep(output, sweep));
        return ExitCodes.Ok;
    }

    private static async Task<int> Results(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var id = args.GetRequiredValue(Id);
        var target = args.GetValue(Out) is { } path ? Path.GetFullPath(path) : null;
        if (target is not null && Directory.Exists(target)) throw new CliUsageException($"--out {target} is a folder: name the file to write");
        var results = ClientCommand.Pretty(await client.GetAsync($"/v1/sweeps/{Uri.EscapeDataString(id)}/results.json", ct));
        if (target is null)
        {
            output.Out.WriteLine(results);
            return ExitCodes.Ok;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // Written whole under a temporary name, then renamed: an earlier file is never left half replaced.
        await File.WriteAllTextAsync(target + ".tmp", results + "\n", ct);
        File.Move(target + ".tmp", target, overwrite: true);
        output.Log.WriteLine($"wrote {target}");
        return ExitCodes.Ok;
    }

    private static IEnumerable<JsonObject> JobsOf(JsonNode sweep) => sweep["jobs"]?.AsArray().OfType<JsonObject>() ?? [];

    private static void PrintSweep(ClientOutput output, JsonNode sweep)
    {
        output.Fields(("id", ClientOutput.Text(sweep["id"])), ("name", ClientOutput.Text(sweep["name"])), ("status", ClientOutput.Text(sweep["status"])));
        output.Out.WriteLine();
        output.Table(["job", "alpha_target", "status", "step"], JobsOf(sweep).Select(j => (IReadOnlyList<string>)[
            ClientOutput.Text(j["id"]), ClientOutput.Text(j["spec"]?["alpha_target"]), ClientOutput.Text(j["status"]), ClientOutput.Text(j["step"])]));
        // The report: per split, one row per model (base, mean-centered base, each alpha_target).
        foreach (var table in sweep["report"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            var rows = table["rows"]?.AsArray().OfType<JsonObject>().ToList() ?? [];
            if (rows.Count == 0) continue;
            output.Out.WriteLine();
            output.Out.WriteLine($"report ({ClientOutput.Text(table["split"])}):");
            var columns = rows.SelectMany(r => r.Select(p => p.Key)).Distinct().ToList();
            output.Table(columns, rows.Select(r => (IReadOnlyList<string>)columns.Select(c => ClientOutput.Text(r[c])).ToList()));
        }
    }
}
