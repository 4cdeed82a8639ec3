namespace TpcCma.Service.Jobs;

/// <summary>
/// A job's progress could not be written (an error another try cannot cure, or a database outage past the retry
/// budget): the run is stopped and the job fails with this, naming the error underneath.
/// </summary>
public sealed class ProgressNotStoredException(Guid jobId, Exception cause)
    : Exception($"the progress of job {jobId} could not be stored ({cause.GetType().Name}: {cause.Message})", cause);
