using System.Text.Json.Nodes;

namespace TpcCma.Service.Operations;

/// <summary>
/// Does the work of one kind of operation on a worker. It reads its arguments from <see cref="OperationContext.Input"/>,
/// reports progress and problems through the context, and returns the result to record (e.g. <c>{"model": id}</c>).
/// An exception fails the operation with its message as the reason, so throw one in the user's words
/// (<see cref="OperationFailedException"/>). A handler may be started again after a worker dies: make it safe to repeat.
/// </summary>
public interface IOperationHandler
{
    /// <summary>One of <see cref="OperationKinds"/>.</summary>
    string Kind { get; }

    Task<JsonObject> RunAsync(OperationContext context, CancellationToken ct);
}
