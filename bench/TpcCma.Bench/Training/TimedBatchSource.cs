using System.Diagnostics;
using TpcCma.Training;

namespace TpcCma.Bench.Training;

/// <summary>
/// Wraps a batch source and notes when the trainer asks for each batch: the trainer asks at the start of every
/// step, so consecutive requests bracket exactly one step of the real <see cref="Trainer"/> loop. After
/// <c>stopAfter</c> requests it cancels the run, so the curriculum never reaches a phase boundary (whose
/// checkpoint would land inside a timed step).
/// </summary>
internal sealed class TimedBatchSource(IBatchSource inner, int stopAfter, CancellationTokenSource stop) : IBatchSource
{
    private readonly List<double> requestedAtMs = [];
    private readonly List<double> cpuAtMs = [];
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public int BatchSize => inner.BatchSize;

    /// <summary>Milliseconds between consecutive batch requests: one per completed step but the last.</summary>
    public IReadOnlyList<double> StepMilliseconds => requestedAtMs.Zip(requestedAtMs.Skip(1), (a, b) => b - a).ToList();

    /// <summary>CPU time of the whole process (all threads) between consecutive batch requests, in milliseconds.</summary>
    public IReadOnlyList<double> StepCpuMilliseconds => cpuAtMs.Zip(cpuAtMs.Skip(1), (a, b) => b - a).ToList();

    public TrainingBatch Batch(long position)
    {
        requestedAtMs.Add(clock.Elapsed.TotalMilliseconds);
        cpuAtMs.Add(CpuClock.ProcessMilliseconds());
        if (requestedAtMs.Count >= stopAfter) stop.Cancel();
        return inner.Batch(position);
    }
}
