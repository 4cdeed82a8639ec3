using TpcCma.Curriculum;
using TpcCma.Evaluation;
using TpcCma.Training;

namespace TpcCma.Runs;

/// <summary>
/// Runs the evaluation protocol at the points METHOD.md names (base, each phase boundary, final) and passes
/// every callback on. Reports are kept as <c>reports/LABEL.json</c>, so a resumed run neither repeats an
/// evaluation nor loses one.
/// </summary>
public sealed class EvaluatingObserver(IRunObserver inner, RunEvaluator? evaluator, EvalSpec spec, string reportDirectory) : IRunObserver
{
    public void Evaluate(long step, string label, bool captioning, bool centered = false, double? noise = null)
    {
        if (evaluator is null) return;
        var path = Path.Combine(reportDirectory, label + ".json");
        if (File.Exists(path)) return;
        var reports = evaluator.Evaluate(label, captioning, centered, noise);
        Directory.CreateDirectory(reportDirectory);
        var record = new StoredEvaluation(step, label, reports);
        File.WriteAllText(path + ".tmp", System.Text.Json.JsonSerializer.Serialize(record, EvaluationReport.JsonOptions));
        File.Move(path + ".tmp", path, overwrite: true);
        foreach (var report in reports) inner.OnEvaluation(step, label, report);
    }

    /// <summary>Every evaluation of this run so far, in step order.</summary>
    public IReadOnlyList<RunEvaluationRecord> Stored() =>
        !Directory.Exists(reportDirectory) ? [] :
        [.. Directory.GetFiles(reportDirectory, "*.json")
            .Select(f => System.Text.Json.JsonSerializer.Deserialize<StoredEvaluation>(File.ReadAllText(f), EvaluationReport.JsonOptions)!)
            .OrderBy(e => e.Step).ThenBy(e => e.Label switch { "base" => 0, "base_centered" => 1, "base_centered_noise" => 2, "final" => 4, _ => 3 })
            .SelectMany(e => e.Reports.Select(r => new RunEvaluationRecord(e.Step, e.Label, r)))];

    public void OnEvent(TrainingEvent e)
    {
        inner.OnEvent(e);
        if (e.Transition is { } t && spec.AtPhaseBoundaries)
            Evaluate(e.Step, $"{t.From.ToString().ToLowerInvariant()}_end", captioning: false);
    }

    public void OnMetrics(long step, IReadOnlyDictionary<string, double> metrics) => inner.OnMetrics(step, metrics);

    public void OnMetrics(long step, TrainingPhase phase, IReadOnlyDictionary<string, double> metrics) => inner.OnMetrics(step, phase, metrics);

    public void OnCheckpoint(CheckpointInfo checkpoint) => inner.OnCheckpoint(checkpoint);

    public void OnEvaluation(long step, string label, EvaluationReport report) => inner.OnEvaluation(step, label, report);

    private sealed record StoredEvaluation(long Step, string Label, IReadOnlyList<EvaluationReport> Reports);
}
