using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace TpcCma.Cli.Commands.Client;

/// <summary>
/// Lets a wait outlive a restart of the service: a poll that finds the connection refused or dropped, or gets a
/// 429, 502, 503 or 504 (a proxy in front of a restarting API), is retried with backoff (0.5 s doubling up to 5 s)
/// until the service has been unreachable for <c>--retry-for</c> seconds; then the last error ends the command.
/// Requests that change something (submit, cancel) are never retried: only these reads.
/// </summary>
public sealed class PollRetry(TimeSpan budget, TextWriter log)
{
    public const double DefaultSeconds = 120;
    public const string Usage = "[--retry-for SECONDS]";

    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>Seconds from <c>--retry-for</c> (0 turns retrying off).</summary>
    public static PollRetry From(CliArgs args, ClientOutput output)
    {
        var seconds = args.Double("retry-for", DefaultSeconds);
        if (seconds < 0) throw new CliUsageException("--retry-for must be a number of seconds >= 0");
        return new PollRetry(TimeSpan.FromSeconds(seconds), output.Errors);
    }

    /// <param name="left">Time left before the caller's own deadline (<c>--timeout</c>): retrying stops there too.</param>
    public async Task<JsonNode> GetAsync(ServiceClient client, string path, TimeSpan? left, CancellationToken ct)
    {
        var limit = left is { } l && l < budget ? l : budget;
        var delay = FirstDelay;
        Stopwatch? outage = null;
        while (true)
        {
            try
            {
                var answer = await client.GetAsync(path, ct);
                if (outage is not null) log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the service answers again after {outage.Elapsed.TotalSeconds:F1} s"));
                return answer;
            }
            catch (Exception ex) when (IsTransient(ex) && !ct.IsCancellationRequested)
            {
                outage ??= Stopwatch.StartNew();
                if (outage.Elapsed + delay > limit) throw;
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"the service is unreachable ({ex.Message}); retrying in {delay.TotalSeconds:F1} s (gives up after {limit.TotalSeconds:F0} s)"));
                await Task.Delay(delay, ct);
                delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
            }
        }
    }

    /// <summary>What a restart or a proxy in front of one looks like; a wrong host name or certificate is not retried.</summary>
    private static bool IsTransient(Exception ex) => ex switch
    {
        ServiceProblem problem => (int)problem.Status is 429 or 502 or 503 or 504,
        HttpRequestException request => request.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded or HttpRequestError.Unknown,
        _ => false,
    };
}
