using System.Text.Json.Nodes;

namespace TpcCma.Cli.Commands.Client;

/// <summary><c>tpccma jobs ...</c>: submit a job (and wait for it), inspect, list, cancel, read its events and curves.</summary>
public static class JobsCommands
{
    public static IReadOnlyList<CliCommand> All { get; } =
    [
        ClientCommand.Create("jobs submit", "Submit a job (the POST /v1/jobs body in FILE); --wait exits with its outcome",
            $"FILE [--wait] [--follow] [--timeout SECONDS] {PollRetry.Usage} [--idempotency-key KEY]", Submit, "wait", "follow"),
        ClientCommand.Create("jobs wait", WaitSummary, $"ID [--follow] [--timeout SECONDS] {PollRetry.Usage}", Wait, "follow"),
        ClientCommand.Create("jobs get", "Show a job", "ID", Get),
        ClientCommand.Create("jobs list", "List jobs, newest first", "[--status STATUS] [--search TEXT] [--sweep ID] [--limit N] [--page-size N]", List),
        ClientCommand.Create("jobs cancel", "Cancel a job", "ID", Cancel),
        ClientCommand.Create("jobs events", "A job's timeline", "ID [--after EVENT_ID]", Events),
        ClientCommand.Create("jobs metrics", "A job's curves (last value of each, or every point with --output json)", "ID [--names a,b] [--since-step N]", Metrics),
    ];

    private const string WaitSummary = "Wait for a job to end; exits with its outcome. Refused or dropped connections and 429/502/503/504 "
        + "(a restarting service) are retried with backoff for up to --retry-for seconds (default 120)";

    private static async Task<int> Submit(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var body = ClientCommand.ReadJsonFile(ClientCommand.Positional(args, 0, "FILE (the job request as JSON)"));
        bool wait = args.Flag("wait"), follow = args.Flag("follow");
        var timeout = JobWaiter.Timeout(args);
        var retry = PollRetry.From(args, output);
        var idempotencyKey = args.Optional("idempotency-key");
        ClientCommand.RejectUnknown(args);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        var job = await client.SendAsync(request, ct);
        var id = job["id"]!.GetValue<string>();
        if (!wait && !follow)
        {
            output.Document(job, () => PrintJob(output, job));
            return ExitCodes.Ok;
        }
        output.Log.WriteLine($"submitted job {id} ({job["name"]})");
        var (code, final) = await JobWaiter.WaitAsync(client, output, id, follow, timeout, retry, ct);
        output.Document(final, () => PrintJob(output, final));
        return code;
    }

    private static async Task<int> Wait(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var id = ClientCommand.Positional(args, 0, "job ID");
        var follow = args.Flag("follow");
        var timeout = JobWaiter.Timeout(args);
        var retry = PollRetry.From(args, output);
        ClientCommand.RejectUnknown(args);
        await retry.GetAsync(client, $"/v1/jobs/{Uri.EscapeDataString(id)}", timeout, ct);   // an unknown id is exit 2, not a wait
        var (code, final) = await JobWaiter.WaitAsync(client, output, id, follow, timeout, retry, ct);
        output.Document(final, () => PrintJob(output, final));
        return code;
    }

    private static async Task<int> Get(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var id = ClientCommand.Positional(args, 0, "job ID");
        ClientCommand.RejectUnknown(args);
        var job = await client.GetAsync($"/v1/jobs/{Uri.EscapeDataString(id)}", ct);
        output.Document(job, () => PrintJob(output, job));
        return ExitCodes.Ok;
    }

    /// <summary>The newest <c>--limit</c> jobs (default 50), read in pages of <c>--page-size</c> (default and most 500) that are followed by their <c>next</c> cursor.</summary>
    private static async Task<int> List(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var wanted = args.Int("limit", 50);
        var pageSize = args.Int("page-size", 500);
        if (wanted < 1) throw new CliUsageException("--limit must be at least 1");
        if (pageSize is < 1 or > 500) throw new CliUsageException("--page-size must be 1 to 500");
        var filters = new List<string>();
        foreach (var name in new[] { "status", "search", "sweep" })
            if (args.Optional(name) is { } value) filters.Add($"{name}={Uri.EscapeDataString(value)}");
        ClientCommand.RejectUnknown(args);
        var jobs = new JsonArray();
        string? cursor = null;
        var more = false;
        do
        {
            var query = new List<string>(filters) { $"limit={Math.Min(wanted - jobs.Count, pageSize)}" };
            if (cursor is not null) query.Add($"cursor={Uri.EscapeDataString(cursor)}");
            var page = await client.GetAsync($"/v1/jobs?{string.Join('&', query)}", ct);
            foreach (var job in page["data"]?.AsArray() ?? []) jobs.Add(job!.DeepClone());
            more = page["has_more"]?.GetValue<bool>() == true;
            cursor = page["next"]?.GetValue<string>();
        } while (more && cursor is not null && jobs.Count < wanted);
        var list = new JsonObject { ["object"] = "list", ["data"] = jobs, ["has_more"] = more, ["next"] = cursor };
        output.Document(list, () => output.Table(["id", "name", "status", "phase", "step", "created"],
            jobs.Select(j => (IReadOnlyList<string>)[
                ClientOutput.Text(j!["id"]), ClientOutput.Text(j["name"]), ClientOutput.Text(j["status"]), ClientOutput.Text(j["phase"]),
                $"{j["step"]}/{j["total_steps"]}", ClientOutput.Text(j["created_at"])])));
        return ExitCodes.Ok;
    }

    private static async Task<int> Cancel(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var id = ClientCommand.Positional(args, 0, "job ID");
        ClientCommand.RejectUnknown(args);
        var job = await client.PostAsync($"/v1/jobs/{Uri.EscapeDataString(id)}/cancel", null, ct);
        output.Document(job, () => PrintJob(output, job));
        return ExitCodes.Ok;
    }

    private static async Task<int> Events(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var id = ClientCommand.Positional(args, 0, "job ID");
        var after = args.Int("after", 0);
        ClientCommand.RejectUnknown(args);
        var page = await client.GetAsync($"/v1/jobs/{Uri.EscapeDataString(id)}/events?after={after}", ct);
        output.Document(page, () => output.Table(["id", "step", "kind", "message", "time"],
            (page["data"]?.AsArray() ?? []).Select(e => (IReadOnlyList<string>)[
                ClientOutput.Text(e!["id"]), ClientOutput.Text(e["step"]), ClientOutput.Text(e["kind"]), ClientOutput.Text(e["message"]), ClientOutput.Text(e["created_at"])])));
        return ExitCodes.Ok;
    }

    private static async Task<int> Metrics(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var id = ClientCommand.Positional(args, 0, "job ID");
        var query = $"since_step={args.Int("since-step", -1)}";
        if (args.Optional("names") is { } names) query += $"&names={Uri.EscapeDataString(names)}";
        ClientCommand.RejectUnknown(args);
        var series = await client.GetAsync($"/v1/jobs/{Uri.EscapeDataString(id)}/metrics?{query}", ct);
        output.Document(series, () => output.Table(["name", "points", "last step", "last value"],
            series.AsArray().Select(s => (IReadOnlyList<string>)[
                ClientOutput.Text(s!["name"]), s["steps"]!.AsArray().Count.ToString(),
                ClientOutput.Text(s["steps"]!.AsArray().LastOrDefault()), ClientOutput.Text(s["values"]!.AsArray().LastOrDefault())])));
        return ExitCodes.Ok;
    }

    public static void PrintJob(ClientOutput output, JsonNode job) => output.Fields(
        ("id", ClientOutput.Text(job["id"])),
        ("name", ClientOutput.Text(job["name"])),
        ("kind", ClientOutput.Text(job["kind"])),
        ("status", ClientOutput.Text(job["status"])),
        ("phase", ClientOutput.Text(job["phase"])),
        ("step", $"{job["step"]}/{job["total_steps"]}"),
        ("created", ClientOutput.Text(job["created_at"])),
        ("finished", job["finished_at"] is null ? null : ClientOutput.Text(job["finished_at"])),
        ("error", job["error"] is JsonObject e ? $"{e["code"]}: {e["message"]}" : null));
}
