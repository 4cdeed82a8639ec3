using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace TpcCma.Cli.Commands.Client;

/// <summary>
/// Follows an operation (a hub model import, a checkpoint conversion) until it ends, by polling, like
/// <see cref="JobWaiter"/> follows a job: through restarts of the service (<see cref="RetryBudget"/>), with the same exit
/// codes (succeeded 0, failed 1 with the reason printed, cancelled 3, still running at the deadline 4).
/// </summary>
public static class OperationWaiter
{
    /// <summary>Waits for operation <paramref name="id"/>; on failure prints its reason and the first problems found.</summary>
    public static async Task<(int ExitCode, JsonNode Operation)> WaitAsync(ServiceClient client, ClientOutput output, string id,
        TimeSpan? timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var operation = await client.GetAsync($"/v1/operations/{Uri.EscapeDataString(id)}", ct, timeout - clock.Elapsed);
            var state = operation["state"]?.GetValue<string>();
            var progress = operation["progress"]?.GetValue<double>() ?? 0;
            output.Progress(progress, string.Create(CultureInfo.InvariantCulture,
                $"{id[..Math.Min(8, id.Length)]} {operation["kind"]} {state}: {operation["message"]?.GetValue<string>() ?? ""}"));
            if (JobWaiter.IsTerminal(state))   // operations end in the same three states as jobs
            {
                output.EndProgress();
                if (state == "failed") PrintFailure(output, operation);
                return (JobWaiter.ExitCodeOf(state), operation);
            }
            if (timeout is { } limit && clock.Elapsed >= limit)
            {
                output.EndProgress();
                output.Errors.WriteLine($"timed out: operation {id} is still {state} after {limit.TotalSeconds:F0} s (it keeps running; wait again with `tpccma operations wait {id}`)");
                return (ExitCodes.TimedOut, operation);
            }
            await Task.Delay(JobWaiter.PollInterval, ct);
        }
    }

    /// <summary>
    /// Before a download that the service may have to prepare first (<c>format=hf</c>): asks for its first byte; a
    /// <c>202 Accepted</c> names the operation preparing it, which is waited for. Returns 0 when the file is ready.
    /// </summary>
    public static async Task<int> WaitUntilReadyAsync(ServiceClient client, ClientOutput output, string url, TimeSpan? timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var probe = new HttpRequestMessage(HttpMethod.Get, url);
            probe.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 0);
            using var response = await client.Http.SendAsync(probe, HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                await ServiceClient.EnsureSuccessAsync(response, ct);
                return ExitCodes.Ok;
            }
            var operation = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
            var id = operation["id"]!.GetValue<string>();
            output.Log.WriteLine($"the service is preparing the file: operation {id} ({operation["kind"]})");
            var (code, _) = await WaitAsync(client, output, id, timeout - clock.Elapsed, ct);
            if (code != ExitCodes.Ok) return code;
        }
    }

    public static void PrintFailure(ClientOutput output, JsonNode operation)
    {
        output.Errors.WriteLine($"error: operation {operation["id"]} failed: {operation["message"]?.GetValue<string>()}");
        foreach (var problem in operation["errors"]?["problems"]?.AsArray() ?? [])
            output.Errors.WriteLine($"  {problem!["location"]}: {problem["message"]}");
        if (operation["errors"]?["truncated"]?.GetValue<bool>() == true)
            output.Errors.WriteLine($"  ... {operation["errors"]!["total"]} problems in all ({operation["errors"]!["counts"]!.ToJsonString()})");
    }

    public static void Print(ClientOutput output, JsonNode operation) => output.Fields(
        ("id", ClientOutput.Text(operation["id"])),
        ("kind", ClientOutput.Text(operation["kind"])),
        ("state", ClientOutput.Text(operation["state"])),
        ("progress", string.Create(CultureInfo.InvariantCulture, $"{(operation["progress"]?.GetValue<double>() ?? 0) * 100:F0}%")),
        ("message", ClientOutput.Text(operation["message"])),
        ("result", operation["result"] is JsonObject result ? result.ToJsonString() : null),
        ("problems", operation["errors"]?["total"] is { } total ? ClientOutput.Text(total) : null),
        ("created", ClientOutput.Text(operation["created_at"])),
        ("finished", operation["finished_at"] is null ? null : ClientOutput.Text(operation["finished_at"])));
}
