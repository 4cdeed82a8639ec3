using System.Text.Json;
using System.Text.Json.Nodes;

namespace TpcCma.Cli.Commands.Client;

/// <summary>
/// What every client command shares: the connection options, <c>--output json|table</c>, and the mapping of
/// failures to exit codes (service errors printed field by field; an unreachable service is 1).
/// </summary>
public static class ClientCommand
{
    public const string ConnectionUsage = "[--url URL] [--key KEY] [--output table|json]";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>A command whose handler gets a connected client and the chosen output.</summary>
    public static CliCommand Create(string words, string summary, string usage, Func<ServiceClient, ClientOutput, CliArgs, CancellationToken, Task<int>> run, params string[] flags) =>
        new(words, summary, $"{words} {usage} {ConnectionUsage}".Replace("  ", " "), (args, ct) => RunAsync(args, run, ct), flags);

    private static async Task<int> RunAsync(CliArgs args, Func<ServiceClient, ClientOutput, CliArgs, CancellationToken, Task<int>> run, CancellationToken ct)
    {
        var output = ClientOutput.From(args);
        using var client = ServiceClient.From(args);
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

    /// <summary>Options the command never read are typos: refuse them before doing anything.</summary>
    public static void RejectUnknown(CliArgs args)
    {
        if (args.Unread().FirstOrDefault() is { } unknown) throw new CliUsageException($"unknown option --{unknown}");
    }

    public static string Positional(CliArgs args, int index, string name) =>
        args.Positionals.Count > index ? args.Positionals[index] : throw new CliUsageException($"missing {name}");

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
