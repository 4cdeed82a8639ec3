using System.CommandLine;
using System.Text.Json.Nodes;
using TpcCma.Cli.CommandLine;

namespace TpcCma.Cli.Commands.Client;

/// <summary><c>tpccma models ...</c>: import a model (waiting for the import when the service runs it on a worker) and show one.</summary>
public static class ModelsCommands
{
    private static readonly Argument<string> Reference = new("REFERENCE") { Description = "hf:ORG/NAME[@REV], preset:NAME, or a path under the service's data root" };
    private static readonly Argument<string> Id = new("ID") { Description = "The model's id" };
    private static readonly Option<string> Name = CliOptions.Text("--name", "NAME", "The model's name (default: the reference)");
    private static readonly Option<bool> NoWait = CliOptions.Flag("--no-wait", "Print the import operation and return at once instead of waiting for it");

    public static IReadOnlyList<CliCommand> All { get; } =
    [
        ClientCommand.Create("models import", "Import a model (hf:ORG/NAME[@REV], preset:NAME, or a path under the service's data root); waits for an import a worker runs",
            [Reference, Name, NoWait, JobWaiter.TimeoutOption], Import, waits: true),
        ClientCommand.Create("models get", "Show a model", [Id], Get),
    ];

    private static async Task<int> Import(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var reference = args.GetRequiredValue(Reference);
        var name = args.GetValue(Name);
        var noWait = args.GetValue(NoWait);
        var timeout = JobWaiter.Timeout(args);

        var body = new JsonObject { ["reference"] = reference };
        if (name is not null) body["name"] = name;
        var answer = await client.PostAsync("/v1/models", body.ToJsonString(), ct);
        if (answer["object"]?.GetValue<string>() != "operation")
        {
            output.Document(answer, () => PrintModel(output, answer));   // 201: registered at once
            return ExitCodes.Ok;
        }
        var id = answer["id"]!.GetValue<string>();
        if (noWait)
        {
            output.Document(answer, () => OperationWaiter.Print(output, answer));
            return ExitCodes.Ok;
        }
        output.Log.WriteLine($"importing {reference} on a worker: operation {id}");
        var (code, final) = await OperationWaiter.WaitAsync(client, output, id, timeout, ct);
        if (code != ExitCodes.Ok)
        {
            output.Document(final, () => OperationWaiter.Print(output, final));
            return code;
        }
        var model = await client.GetAsync($"/v1/models/{Uri.EscapeDataString(final["result"]!["model"]!.GetValue<string>())}", ct);
        output.Document(model, () => PrintModel(output, model));
        return ExitCodes.Ok;
    }

    private static async Task<int> Get(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var id = args.GetRequiredValue(Id);
        var model = await client.GetAsync($"/v1/models/{Uri.EscapeDataString(id)}", ct);
        output.Document(model, () => PrintModel(output, model));
        return ExitCodes.Ok;
    }

    private static void PrintModel(ClientOutput output, JsonNode model) => output.Fields(
        ("id", ClientOutput.Text(model["id"])),
        ("name", ClientOutput.Text(model["name"])),
        ("source", ClientOutput.Text(model["source"])),
        ("reference", ClientOutput.Text(model["reference"])),
        ("created", ClientOutput.Text(model["created_at"])));
}
