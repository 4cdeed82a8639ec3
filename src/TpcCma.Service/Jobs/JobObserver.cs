using TpcCma.Curriculum;
using TpcCma.Diagnostics;
using TpcCma.Evaluation;
using TpcCma.Runs;
using TpcCma.Training;

namespace TpcCma.Service.Jobs;

/// <summary>
/// Translates the trainer's callbacks into progress items; returns at once (the writer does the I/O). With a shared
/// store (<paramref name="uploads"/>), a checkpoint is recorded only once its upload is complete, so every recorded
/// checkpoint can be downloaded and resumed from on any node. <paramref name="handingBack"/> tells a stop for a
/// worker going away (the job continues elsewhere) from a user's cancel.
/// </summary>
public sealed class JobObserver(JobProgressWriter progress, ArtifactPaths paths, CheckpointUploads? uploads = null, Func<bool>? handingBack = null) : IRunObserver
{
    public void OnEvent(TrainingEvent e)
    {
        var kind = JobEventKinds.FromTrainer(e.Kind);
        var message = e.Message;
        if (kind == JobEventKind.Resumed) progress.Post(new JobProgressWriter.Rewind(e.Step));
        if (kind == JobEventKind.Cancelled && handingBack?.Invoke() == true)
            (kind, message) = (JobEventKind.HandedBack, $"stopped after {e.Step} steps: the worker is shutting down; the next worker resumes from this step's checkpoint");
        object? data = e.Transition is { } t ? new { from = t.From.Name(), to = t.To.Name(), reason = t.Reason } : null;
        progress.Post(new JobProgressWriter.Event(kind, e.Step, message, data));
        if (e.Transition is { } transition) progress.Post(new JobProgressWriter.Progress(e.Step, transition.To));
    }

    private long lastStep = -1;

    /// <summary>Metrics without their phase: the job's phase is left as it is.</summary>
    public void OnMetrics(long step, IReadOnlyDictionary<string, double> metrics) => Report(step, null, metrics);

    public void OnMetrics(long step, TrainingPhase phase, IReadOnlyDictionary<string, double> metrics) => Report(step, phase, metrics);

    private void Report(long step, TrainingPhase? phase, IReadOnlyDictionary<string, double> metrics)
    {
        if (FaultInjection.IsArmed("dependency-cancel", step))
            throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.",
                new TimeoutException("The operation was canceled."));   // what an HTTP client inside a dependency throws
        if (lastStep >= 0) ServiceMetrics.StepsTrained(step - lastStep);   // the first report after a (re)start only sets the mark
        lastStep = step;
        progress.Post(new JobProgressWriter.Metrics(step, metrics));
        progress.Post(new JobProgressWriter.Progress(step, phase));
    }

    public void OnCheckpoint(CheckpointInfo checkpoint)
    {
        if (uploads is null) Record(checkpoint);
        else uploads.Enqueue(checkpoint);
        progress.Post(new JobProgressWriter.Event(JobEventKind.Checkpoint, checkpoint.Step, $"checkpoint at step {checkpoint.Step} ({checkpoint.Reason})", null));
    }

    /// <summary>The checkpoint's row: where it is (its key, the same on disk and in the store), size and hash.</summary>
    public void Record(CheckpointInfo checkpoint)
    {
        var weights = new FileInfo(Path.Combine(checkpoint.Directory, CheckpointStore.WeightsFile));
        progress.Post(new JobProgressWriter.Checkpoint(checkpoint.Step, checkpoint.Phase, paths.KeyOf(checkpoint.Directory),
            weights.Exists ? weights.Length : 0, checkpoint.WeightsSha256));
    }

    /// <summary>Evaluation reports (gaps, accuracy, ARI, CIDEr) become curves named <c>eval/SPLIT/METRIC</c> and an event.</summary>
    public void OnEvaluation(long step, string label, EvaluationReport report)
    {
        progress.Post(new JobProgressWriter.Metrics(step, EvaluationMetrics.Flatten(report, label == "base_centered" ? "eval_centered" : "eval")));
        progress.Post(new JobProgressWriter.Event(JobEventKind.Evaluation, step, $"evaluation {label} on {report.Split} ({report.Pairs} pairs)", new { label, report }));
    }
}
