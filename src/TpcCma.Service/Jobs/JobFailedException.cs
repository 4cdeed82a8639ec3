namespace TpcCma.Service.Jobs;

/// <summary>
/// Thrown by a job after its failure is recorded on its row, so that Hangfire's state (Failed) agrees with the row's;
/// the training job is never retried automatically, so this ends it.
/// </summary>
public sealed class JobFailedException(Guid jobId, string code, string reason, Exception cause)
    : Exception($"job {jobId} failed ({code}): {reason}", cause)
{
    public string Code { get; } = code;
}
