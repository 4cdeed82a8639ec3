using Hangfire;

namespace TpcCma.Service.Operations;

/// <summary>
/// The Hangfire job of an operation: a thin adapter whose only argument is the operation id. Never retried by Hangfire
/// (a failure is recorded on the row with its reason); safe to run twice (the runner claims the row first).
/// </summary>
public sealed class OperationJob(OperationRunner runner)
{
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail), JobDisplayName("operation {0}")]
    public Task RunAsync(Guid operationId, CancellationToken ct) => runner.ExecuteAsync(operationId, ct);
}
