using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace TpcCma.Cli.Commands.Client;

/// <summary>
/// Follows a job (or a sweep) until it ends, by polling: a pipeline step must survive proxies that cut long
/// streams and restarts of the service (<see cref="PollRetry"/>). The outcome becomes the exit code: succeeded 0,
/// failed 1, cancelled 3, still running at the deadline 4.
/// </summary>
public static class JobWaiter
{
    public static TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public static bool IsTerminal(string? status) => status is "succeeded" or "failed" or "cancelled";

    public static int ExitCodeOf(string? status) => status switch
    {
        "succeeded" => ExitCodes.Ok,
        "cancelled" => ExitCodes.Cancelled,
        _ => ExitCodes.Failed,
    };

    /// <summary>Seconds from <c>--timeout</c>; none means wait as long as it takes.</summary>
    public static TimeSpan? Timeout(CliArgs args)
    {
        var seconds = args.Double("timeout", 0);
        if (seconds < 0) throw new CliUsageException("--timeout must be a number of seconds >= 0");
        return seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
    }

    /// <summary>Waits for the job; with <paramref name="follow"/> also prints its events and loss as they come.</summary>
    public static async Task<(int ExitCode, JsonNode Job)> WaitAsync(ServiceClient client, ClientOutput output, string id, bool follow,
        TimeSpan? timeout, PollRetry retry, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        Task<JsonNode> Poll(string path) => retry.GetAsync(client, path, timeout - clock.Elapsed, ct);
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
