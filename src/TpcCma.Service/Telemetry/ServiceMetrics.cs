using System.Diagnostics.Metrics;

namespace TpcCma.Service.Telemetry;

/// <summary>
/// The service's own instruments, exported with ASP.NET Core's and the runtime's at <c>/metrics</c> in Prometheus
/// text format (OpenTelemetry names <c>tpccma.jobs.submitted</c> appear as <c>tpccma_jobs_submitted_total</c>).
/// Labels stay low-cardinality (kind, status, outcome): per-job curves live in the jobs API, not here.
/// </summary>
public static class ServiceMetrics
{
    public const string MeterName = "TpcCma.Service";
    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Submitted = Meter.CreateCounter<long>("tpccma.jobs.submitted", description: "Jobs accepted by the API");
    private static readonly Counter<long> Finished = Meter.CreateCounter<long>("tpccma.jobs.finished", description: "Jobs that ended, by status");
    private static readonly UpDownCounter<long> Running = Meter.CreateUpDownCounter<long>("tpccma.jobs.running", description: "Jobs this worker is training now");
    private static readonly Counter<long> Steps = Meter.CreateCounter<long>("tpccma.training.steps", description: "Optimizer steps reported by this worker's jobs");
    private static readonly Counter<long> ProgressRows = Meter.CreateCounter<long>("tpccma.progress.items", description: "Metrics, events and checkpoints written to the database");
    private static readonly Counter<long> ProgressRetries = Meter.CreateCounter<long>("tpccma.progress.write.retries", description: "Progress batches retried after a database error");
    private static readonly Histogram<double> ProgressWrite = Meter.CreateHistogram<double>("tpccma.progress.write.duration", unit: "s", description: "Time to write one progress batch");

    public static void JobSubmitted(string kind) => Submitted.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public static void JobFinished(string status) => Finished.Add(1, new KeyValuePair<string, object?>("status", status));

    /// <summary>Counts the job as running until the returned handle is disposed.</summary>
    public static IDisposable JobRunning()
    {
        Running.Add(1);
        return new Release(() => Running.Add(-1));
    }

    public static void StepsTrained(long count) { if (count > 0) Steps.Add(count); }

    public static void ProgressWritten(int items, TimeSpan duration)
    {
        ProgressRows.Add(items);
        ProgressWrite.Record(duration.TotalSeconds);
    }

    public static void ProgressRetried() => ProgressRetries.Add(1);

    private sealed class Release(Action action) : IDisposable
    {
        private int done;
        public void Dispose() { if (Interlocked.Exchange(ref done, 1) == 0) action(); }
    }
}
