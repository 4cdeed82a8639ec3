namespace TpcCma.Service.Persistence;

/// <summary>A job's lifecycle, as the fine-tuning APIs people know spell it.</summary>
public enum JobStatus { Queued, Running, Cancelling, Cancelled, Succeeded, Failed }

public static class JobStatusNames
{
    public static string Name(this JobStatus status) => status.ToString().ToLowerInvariant();

    public static bool IsTerminal(this JobStatus status) => status is JobStatus.Cancelled or JobStatus.Succeeded or JobStatus.Failed;
}
