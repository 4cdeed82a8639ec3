namespace TpcCma.Service.Persistence;

/// <summary>An operation's lifecycle; stored and shown in lower case.</summary>
public enum OperationState { Queued, Running, Succeeded, Failed, Cancelled }

public static class OperationStateNames
{
    public static string Name(this OperationState state) => state.ToString().ToLowerInvariant();

    public static OperationState Parse(string name) => Enum.Parse<OperationState>(name, ignoreCase: true);

    public static bool IsTerminal(this OperationState state) => state is OperationState.Succeeded or OperationState.Failed or OperationState.Cancelled;
}
