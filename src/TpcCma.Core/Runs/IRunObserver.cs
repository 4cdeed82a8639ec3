using TpcCma.Evaluation;
using TpcCma.Training;

namespace TpcCma.Runs;

/// <summary>A <see cref="ITrainingObserver"/> that also receives the run's evaluation reports.</summary>
public interface IRunObserver : ITrainingObserver
{
    /// <summary>One evaluation of the model at <paramref name="step"/> (<paramref name="label"/>: base, a phase name, final).</summary>
    void OnEvaluation(long step, string label, EvaluationReport report);
}

/// <summary>An evaluation the run made: when, of what, and the report.</summary>
public sealed record RunEvaluationRecord(long Step, string Label, EvaluationReport Report);
