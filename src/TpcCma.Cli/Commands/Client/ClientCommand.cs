using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using TpcCma.Cli.CommandLine;

namespace TpcCma.Cli.Commands.Client;

/// <summary>
/// What every client command shares: the connection options, <c>--output json|table</c>, <c>--retry-for</c>, and the
/// mapping of failures to exit codes (service errors printed field by field; an unreachable service is 1).
/// </summary>
public static class ClientCommand
{
    public static readonly Option<string> Url = CliOptions.Text("--url", "URL", $"The service (or TPCCMA_URL; default {ServiceClient.DefaultUrl})");
    public static readonly Option<string> Key = CliOptions.Text("--key", "KEY", "API key (or TPCCMA_API_KEY)");
    public static readonly Option<string> Output = CliOptions.Choice("--output", "table: aligned columns for people; json: the service's documents for scripts", ["table", "json"]);

    /// <summary>Commands that wait poll through a restart of the service; a one-shot read gives up sooner.</summary>
    private static readonly Option<double> RetryForWaits = RetryFor(RetryBudget.WaitSeconds);
    private static readonly Option<double> RetryForReads = RetryFor(RetryBudget.ReadSeconds);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>A command whose handler gets a connected client and the chosen output.</summary>
    /// <param name="waits">The command follows a job or sweep: reads are retried for longer by default.</param>
    public static CliCommand Create(string words, string summary, IReadOnlyList<Symbol> symbols,
        Func<ServiceClient, ClientOutput, ParseResult, CancellationToken, Task<int>> run, bool waits = false)
    {
        var retryFor = waits ? RetryForWaits : RetryForReads;
        return new(words, summary, [.. symbols, Url, Key, Output, retryFor], (args, ct) => RunAsync(args, retryFor, run, ct));
    }

    private static Option<double> RetryFor(double seconds) => CliOptions.Number("--retry-for", "SECONDS",
        "How long reads keep being retried while the service is unreachable or answers 408, 429 or 5xx (0 turns retrying off)",
        seconds, min: 0);

    private static async Task<int> RunAsync(ParseResult args, Option<double> retryFor, Func<ServiceClient, ClientOutput, ParseResult, CancellationToken, Task<int>> run,
        CancellationToken ct)
    {
        // The writers this invocation was given (the console for the tool; a caller's writers when it runs in-process).
        var (stdout, stderr) = (args.InvocationConfiguration.Output, args.InvocationConfiguration.Error);
        var interactive = stdout == Console.Out && !Console.IsOutputRedirected;
        var output = new ClientOutput(args.GetValue(Output) == "json", stdout, stderr, interactive);
        var budget = new RetryBudget(TimeSpan.FromSeconds(args.GetValue(retryFor)), output.Errors);
        using var client = ServiceClient.Create(args.GetValue(Url), args.GetValue(Key), budget);
        try
        {
            return await run(client, output, args, ct);
        }
        catch (ServiceProblem problem)
        {
            problem.WriteTo(output.Errors);
            return problem.ExitCode;
        }
        catch (HttpRequestException ex)
        {
            output.Errors.WriteLine($"error: cannot reach the service at {client.BaseUrl}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>A request body from a file ('-' reads standard input), checked to be a JSON object before it is sent.</summary>
    public static string ReadJsonFile(string path)
    {
        var text = path == "-" ? Console.In.ReadToEnd() : File.Exists(path) ? File.ReadAllText(path) : throw new FileNotFoundException($"no such file: {path}");
        try
        {
            if (JsonNode.Parse(text) is not JsonObject) throw new InvalidDataException($"{path}: the request must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({ex.Message})");
        }
        return text;
    }

    public static string Pretty(JsonNode? node) => node?.ToJsonString(Indented) ?? "null";
}
