using TpcCma.Curriculum;

namespace TpcCma.Training;

/// <summary>Something that happened in a run: <c>started</c>, <c>resumed</c>, <c>phase</c>, <c>cancelled</c>, <c>diverged</c>, <c>completed</c>.</summary>
/// <param name="Step">Optimiser steps completed when it happened.</param>
/// <param name="Transition">Set for <c>phase</c> events.</param>
public sealed record TrainingEvent(long Step, string Kind, string Message, PhaseTransition? Transition = null);

/// <summary>A checkpoint that has been written completely (files renamed into place, <c>latest.json</c> updated).</summary>
public sealed record CheckpointInfo(long Step, TrainingPhase Phase, string Directory, string WeightsSha256, string Reason);

/// <summary>
/// What a host sees of a run. Called on the training thread between steps, outside any dispose scope:
/// implementations must return quickly (hand the data to a queue) and must not keep tensors.
/// </summary>
public interface ITrainingObserver
{
    void OnEvent(TrainingEvent trainingEvent);

    /// <summary>Scalars of a logging step: loss parts, alpha, a, b, w, lr, grad_norm, logit_scale, phase (see <see cref="Trainer"/>).</summary>
    void OnMetrics(long step, IReadOnlyDictionary<string, double> metrics);

    /// <summary>
    /// The same, with the curriculum phase the step ran in as a value of its own (the <c>phase</c> scalar stays in
    /// <paramref name="metrics"/> for curves): the trainer calls this one. Hosts that do not need the phase keep
    /// implementing the overload above, which this one calls unless overridden.
    /// </summary>
    void OnMetrics(long step, TrainingPhase phase, IReadOnlyDictionary<string, double> metrics) => OnMetrics(step, metrics);

    void OnCheckpoint(CheckpointInfo checkpoint);
}
