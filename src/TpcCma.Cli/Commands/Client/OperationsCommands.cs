namespace TpcCma.Cli.Commands.Client;

/// <summary><c>tpccma operations ...</c>: show and wait for the operations (model imports, checkpoint conversions) that requests start.</summary>
public static class OperationsCommands
{
    public static IReadOnlyList<CliCommand> All { get; } =
    [
        ClientCommand.Create("operations wait", "Wait for an operation to end; exits with its outcome (0 succeeded, 1 failed with the reason, 3 cancelled, 4 timed out)",
            $"ID [--timeout SECONDS] {PollRetry.Usage}", Wait),
        ClientCommand.Create("operations get", "Show an operation: state, progress, message, result and problems", "ID", Get),
        ClientCommand.Create("operations cancel", "Cancel a queued or running operation", "ID", Cancel),
    ];

    private static async Task<int> Wait(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var id = ClientCommand.Positional(args, 0, "operation ID");
        var timeout = JobWaiter.Timeout(args);
        var retry = PollRetry.From(args, output);
        ClientCommand.RejectUnknown(args);
        var (code, final) = await OperationWaiter.WaitAsync(client, output, id, timeout, retry, ct);
        output.Document(final, () => OperationWaiter.Print(output, final));
        return code;
    }

    private static async Task<int> Get(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var id = ClientCommand.Positional(args, 0, "operation ID");
        ClientCommand.RejectUnknown(args);
        var operation = await client.GetAsync($"/v1/operations/{Uri.EscapeDataString(id)}", ct);
        output.Document(operation, () => OperationWaiter.Print(output, operation));
        return ExitCodes.Ok;
    }

    private static async Task<int> Cancel(ServiceClient client, ClientOutput output, CliArgs args, CancellationToken ct)
    {
        var id = ClientCommand.Positional(args, 0, "operation ID");
        ClientCommand.RejectUnknown(args);
        var operation = await client.PostAsync($"/v1/operations/{Uri.EscapeDataString(id)}/cancel", null, ct);
        output.Document(operation, () => OperationWaiter.Print(output, operation));
        return ExitCodes.Ok;
    }
}
