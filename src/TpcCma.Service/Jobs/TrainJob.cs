using Hangfire;

namespace TpcCma.Service.Jobs;

/// <summary>
/// The Hangfire job: a thin adapter whose only argument is the job id. Safe to run twice (a lease on the job row),
/// never retried automatically (a multi-hour GPU job must not silently start over), and it rethrows cancellation
/// so that a worker shutting down hands the job back to the queue; the next run resumes from the checkpoint.
/// </summary>
public sealed class TrainJob(JobExecutor executor)
{
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail), JobDisplayName("train {0}")]
    public Task RunAsync(Guid jobId, CancellationToken ct) => executor.ExecuteAsync(jobId, ct);
}
