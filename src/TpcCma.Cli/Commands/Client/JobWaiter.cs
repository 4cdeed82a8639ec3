using System.Diagnostics;
using System.Globalization;

namespace TpcCma.Cli.Commands.Client;

/// <summary>
/// Follows a job (or a sweep) until it ends, by polling: a pipeline step must survive proxies that cut long
/// streams and restarts of the service (<see cref="RetryBudget"/>). The outcome becomes the exit code: succeeded 0,
/// failed 1, cancelled 3, still running at the deadline 4.
/// </summary>
public static class JobWaiter
{
    public static TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public static readonly Option<double> TimeoutOption = CliOptions.Number("--timeout", "SECONDS",
        "Give up waiting after this long with exit code 4; the job keeps running (0: wait as long as it takes)", 0, min: 0);
    public static readonly Option<bool> Wait = CliOptions.Flag("--wait", "Wait for the end and exit with its outcome (0 succeeded, 1 failed, 3 cancelled, 4 timed out)");
    public static readonly Option<bool> Follow = CliOptions.Flag("--follow", "Also print the job's events and loss as they come (submit: implies --wait)");

    public static bool IsTerminal(string? status) => status is "succeeded" or "failed" or "cancelled";

    public static int ExitCodeOf(string? status) => status switch
    {
        "succeeded" => ExitCodes.Ok,
        "cancelled" => ExitCodes.Cancelled,
        _ => ExitCodes.Failed,
    };

    /// <summary>Seconds from <c>--timeout</c>; none means wait as long as it takes.</summary>
    public static TimeSpan? Timeout(ParseResult args) => args.GetValue(TimeoutOption) is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : null;

    /// <summary>Waits for the job; with <paramref name="follow"/> also prints its events and loss as they come.</summary>
    public static async Task<(int ExitCode, JsonNode Job)> WaitAsync(ServiceClient client, ClientOutput output, string id, bool follow,
        TimeSpan? timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        Task<JsonNode> Poll(string path) => client.GetAsync(path, ct, timeout - clock.Elapsed);
        long lastEvent = 0, lastStep = -1;
        while (true)
        {
            var job = await Poll($"/v1/jobs/{id}");
            var status = job["status"]?.GetValue<string>();
            var step = job["step"]?.GetValue<long>() ?? 0;
            var total = Math.Max(1, job["total_steps"]?.GetValue<long>() ?? 1);
            if (follow)
            {
                var events = await Poll($"/v1/jobs/{id}/events?after={lastEvent}");
                foreach (var e in events["data"]?.AsArray() ?? [])
                {
                    lastEvent = e!["id"]!.GetValue<long>();
                    if (output.Interactive) output.EndProgress();
                    output.Log.WriteLine($"[{e["kind"]}] step {ClientOutput.Text(e["step"])}: {e["message"]}");
                }
            }
            if (step != lastStep || IsTerminal(status))
            {
                lastStep = step;
                var loss = follow ? LastLoss(await Poll($"/v1/jobs/{id}/metrics?names=loss")) : null;
                output.Progress((double)step / total, string.Create(CultureInfo.InvariantCulture,
                    $"{id[..8]} {status} {job["phase"]?.GetValue<string>() ?? "-"} step {step}/{total}{(loss is null ? "" : $" loss {loss:F4}")}"));
            }
            if (IsTerminal(status))
            {
                output.EndProgress();
                return (ExitCodeOf(status), job);
            }
            if (timeout is { } limit && clock.Elapsed >= limit)
            {
                output.EndProgress();
                output.Errors.WriteLine($"timed out: job {id} is still {status} after {limit.TotalSeconds:F0} s (it keeps running; cancel it with `tpccma jobs cancel {id}`)");
                return (ExitCodes.TimedOut, job);
            }
            await Task.Delay(PollInterval, ct);
        }
    }

    private static double? LastLoss(JsonNode series)
    {
        var values = series.AsArray().FirstOrDefault()?["values"]?.AsArray();
        return values is { Count: > 0 } ? values[^1]!.GetValue<double>() : null;
    }
}
