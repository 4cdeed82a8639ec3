using System.CommandLine;
using TpcCma.Cli.CommandLine;

namespace TpcCma.Cli.Commands.Client;

/// <summary><c>tpccma operations ...</c>: show and wait for the operations (model imports, checkpoint conversions) that requests start.</summary>
public static class OperationsCommands
{
    private static readonly Argument<string> Id = new("ID") { Description = "The operation's id" };

    public static IReadOnlyList<CliCommand> All { get; } =
    [
        ClientCommand.Create("operations wait", "Wait for an operation to end; exits with its outcome (0 succeeded, 1 failed with the reason, 3 cancelled, 4 timed out)",
            [Id, JobWaiter.TimeoutOption], Wait, waits: true),
        ClientCommand.Create("operations get", "Show an operation: state, progress, message, result and problems", [Id], Get),
        ClientCommand.Create("operations cancel", "Cancel a queued or running operation", [Id], Cancel),
    ];

    private static async Task<int> Wait(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var id = args.GetRequiredValue(Id);
        var (code, final) = await OperationWaiter.WaitAsync(client, output, id, JobWaiter.Timeout(args), ct);
        output.Document(final, () => OperationWaiter.Print(output, final));
        return code;
    }

    private static async Task<int> Get(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var operation = await client.GetAsync($"/v1/operations/{Uri.EscapeDataString(args.GetRequiredValue(Id))}", ct);
        output.Document(operation, () => OperationWaiter.Print(output, operation));
        return ExitCodes.Ok;
    }

    private static async Task<int> Cancel(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var operation = await client.PostAsync($"/v1/operations/{Uri.EscapeDataString(args.GetRequiredValue(Id))}/cancel", null, ct);
        output.Document(operation, () => OperationWaiter.Print(output, operation));
        return ExitCodes.Ok;
    }
}
