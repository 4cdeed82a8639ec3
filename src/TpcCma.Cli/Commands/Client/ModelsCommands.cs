using System.Text.Json.Nodes;

namespace TpcCma.Cli.Commands.Client;

/// <summary><c>tpccma models ...</c>: import a model (waiting for the import when the service runs it on a worker) and show one.</summary>
public static class ModelsCommands
{
    public static IReadOnlyList<CliCommand> All { get; } =
    [
        ClientCommand.Create("models import", "Import a model (hf:ORG/NAME[@REV], preset:NAME, or a path under the service's data root); waits for a hub import to end",
            $"REFERENCE [--name NAME] [--no-wait] [--timeout SECONDS] {PollRetry.Usage}", Import, "no-wait"),
        ClientCommand.Create("models get", "Show a model", "ID", Get),
    ];

    private static async Task<int> Import(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var reference = ClientCommand.Positional(args, 0, "REFERENCE (hf:ORG/NAME, preset:NAME or a path under the data root)");
        var name = args.Optional("name");
        var noWait = args.Flag("no-wait");
        var timeout = JobWaiter.Timeout(args);
        var retry = PollRetry.From(args, output);
        ClientCommand.RejectUnknown(args);

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
        var (code, final) = await OperationWaiter.WaitAsync(client, output, id, timeout, retry, ct);
        if (code != ExitCodes.Ok)
        {
            output.Document(final, () => OperationWaiter.Print(output, final));
            return code;
        }
        var model = await retry.GetAsync(client, $"/v1/models/{Uri.EscapeDataString(final["result"]!["model"]!.GetValue<string>())}", null, ct);
        output.Document(model, () => PrintModel(output, model));
        return ExitCodes.Ok;
    }

    private static async Task<int> Get(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var id = ClientCommand.Positional(args, 0, "model ID");
        ClientCommand.RejectUnknown(args);
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
