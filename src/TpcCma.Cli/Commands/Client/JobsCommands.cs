namespace TpcCma.Cli.Commands.Client;

/// <summary><c>tpccma jobs ...</c>: submit a job (and wait for it), inspect, list, cancel, read its events and curves.</summary>
public static class JobsCommands
{
    private static readonly Argument<string> RequestFile = new("FILE") { Description = "The request body as JSON ('-': standard input)" };
    private static readonly Argument<string> Id = new("ID") { Description = "The job's id" };
    private static readonly Option<string> IdempotencyKey = CliOptions.Text("--idempotency-key", "KEY", "Sent as Idempotency-Key: submitting again with it returns the first job");
    private static readonly Option<string> Status = CliOptions.Text("--status", "STATUS", "Only jobs with this status");
    private static readonly Option<string> Search = CliOptions.Text("--search", "TEXT", "Only jobs whose name contains TEXT");
    private static readonly Option<string> Sweep = CliOptions.Text("--sweep", "ID", "Only the jobs of this sweep");
    private static readonly Option<int> Limit = CliOptions.Int("--limit", "N", "How many jobs to list", 50, min: 1);
    private static readonly Option<int> PageSize = CliOptions.Int("--page-size", "N", "Jobs asked for per request (1 to 500)", 500, min: 1);
    private static readonly Option<long> After = new("--after") { HelpName = "EVENT_ID", Description = "Only events after this one", DefaultValueFactory = _ => 0 };
    private static readonly Option<string> Names = CliOptions.Text("--names", "a,b", "Only these curves");
    private static readonly Option<long> SinceStep = new("--since-step") { HelpName = "N", Description = "Only points after this step", DefaultValueFactory = _ => -1 };

    public static IReadOnlyList<CliCommand> All { get; } =
    [
        ClientCommand.Create("jobs submit", "Submit a job (the POST /v1/jobs body in FILE); --wait exits with its outcome",
            [RequestFile, JobWaiter.Wait, JobWaiter.Follow, JobWaiter.TimeoutOption, IdempotencyKey], Submit, waits: true),
        ClientCommand.Create("jobs wait", WaitSummary, [Id, JobWaiter.Follow, JobWaiter.TimeoutOption], Wait, waits: true),
        ClientCommand.Create("jobs get", "Show a job", [Id], Get),
        ClientCommand.Create("jobs list", "List jobs, newest first", [Status, Search, Sweep, Limit, PageSize], List),
        ClientCommand.Create("jobs cancel", "Cancel a job", [Id], Cancel),
        ClientCommand.Create("jobs events", "A job's timeline", [Id, After], Events),
        ClientCommand.Create("jobs metrics", "A job's curves (last value of each, or every point with --output json)", [Id, Names, SinceStep], Metrics),
    ];

    private const string WaitSummary = "Wait for a job to end; exits with its outcome. Refused or dropped connections, 408, 429 and 5xx "
        + $"(a restarting service) are retried with backoff for up to --retry-for SECONDS (default 120)";

    private static async Task<int> Submit(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var body = ClientCommand.ReadJsonFile(args.GetRequiredValue(RequestFile));
        bool wait = args.GetValue(JobWaiter.Wait), follow = args.GetValue(JobWaiter.Follow);
        var timeout = JobWaiter.Timeout(args);
        var idempotencyKey = args.GetValue(IdempotencyKey);

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
        var (code, final) = await JobWaiter.WaitAsync(client, output, id, follow, timeout, ct);
        output.Document(final, () => PrintJob(output, final));
        return code;
    }

    private static async Task<int> Wait(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var id = args.GetRequiredValue(Id);
        var follow = args.GetValue(JobWaiter.Follow);
        var timeout = JobWaiter.Timeout(args);
        await client.GetAsync($"/v1/jobs/{Uri.EscapeDataString(id)}", ct, timeout);   // an unknown id is exit 2, not a wait
        var (code, final) = await JobWaiter.WaitAsync(client, output, id, follow, timeout, ct);
        output.Document(final, () => PrintJob(output, final));
        return code;
    }

    private static async Task<int> Get(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var id = args.GetRequiredValue(Id);
        var job = await client.GetAsync($"/v1/jobs/{Uri.EscapeDataString(id)}", ct);
        output.Document(job, () => PrintJob(output, job));
        return ExitCodes.Ok;
    }

    /// <summary>The newest <c>--limit</c> jobs (default 50), read in pages of <c>--page-size</c> (default and most 500) that are followed by their <c>next</c> cursor.</summary>
    private static async Task<int> List(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var wanted = args.GetValue(Limit);
        var pageSize = args.GetValue(PageSize);
        if (pageSize > 500) throw new CliUsageException($"--page-size must be 1 to 500, got {pageSize}");
        var filters = new List<string>();
        foreach (var (name, option) in new[] { ("status", Status), ("search", Search), ("sweep", Sweep) })
            if (args.GetValue(option) is { } value) filters.Add($"{name}={Uri.EscapeDataString(value)}");
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

    private static async Task<int> Cancel(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var id = args.GetRequiredValue(Id);
        var job = await client.PostAsync($"/v1/jobs/{Uri.EscapeDataString(id)}/cancel", null, ct);
        output.Document(job, () => PrintJob(output, job));
        return ExitCodes.Ok;
    }

    private static async Task<int> Events(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var id = args.GetRequiredValue(Id);
        var after = args.GetValue(After);
        var page = await client.GetAsync($"/v1/jobs/{Uri.EscapeDataString(id)}/events?after={after}", ct);
        output.Document(page, () => output.Table(["id", "step", "kind", "message", "time"],
            (page["data"]?.AsArray() ?? []).Select(e => (IReadOnlyList<string>)[
                ClientOutput.Text(e!["id"]), ClientOutput.Text(e["step"]), ClientOutput.Text(e["kind"]), ClientOutput.Text(e["message"]), ClientOutput.Text(e["created_at"])])));
        return ExitCodes.Ok;
    }

    private static async Task<int> Metrics(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var id = args.GetRequiredValue(Id);
        var query = $"since_step={args.GetValue(SinceStep)}";
        if (args.GetValue(Names) is { } names) query += $"&names={Uri.EscapeDataString(names)}";
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
