namespace TpcCma.Curriculum;

/// <summary>The three phases of docs/METHOD.md: anchor (alpha = 0), ramp (cosine), consolidate (alpha_target).</summary>
public enum TrainingPhase { Anchor = 1, Ramp = 2, Consolidate = 3 }

/// <summary>The curriculum's numbers, taken from the job spec. Step counts are derived from fractions of T.</summary>
/// <param name="TotalSteps">T, the number of optimiser steps.</param>
/// <param name="AlphaTarget">Alignment share of phase 3.</param>
/// <param name="P1">Phase-1 budget as a fraction of T.</param>
/// <param name="P1Min">Phase 1 runs at least this fraction of T before a plateau may end it.</param>
/// <param name="P2">Ramp length as a fraction of T.</param>
/// <param name="PlateauTol">Relative change of the smoothed gradient norm below which it counts as settled.</param>
/// <param name="PlateauWindow">W: the longest the two averaging windows may be; see <see cref="EffectivePlateauWindow"/>.</param>
/// <param name="EmaSmoothing">Smoothing of the exponential moving average (0.98: each step adds 2 %).</param>
public sealed record CurriculumOptions(
    long TotalSteps, double AlphaTarget, double P1 = 0.15, double P1Min = 0.05, double P2 = 0.35,
    double PlateauTol = 0.1, int PlateauWindow = 50, double EmaSmoothing = 0.98)
{
    public long AnchorBudget => Steps(P1);
    public long AnchorMinimum => Steps(P1Min);
    public long RampLength => Steps(P2);

    /// <summary>
    /// The window the plateau test uses: <c>min(W, max(2, floor(budget / 4)))</c>, budget = the phase-1 budget.
    /// The test needs 2 windows of EMA values, so a window fixed at W could never fire in a phase 1 shorter than
    /// 2W steps (the default W = 50 against 68 phase-1 steps at T = 450); with the scaled window the two windows
    /// fill by half the budget and the rest of phase 1 can end on a plateau.
    /// </summary>
    public int EffectivePlateauWindow => (int)Math.Min(PlateauWindow, Math.Max(2, AnchorBudget / 4));

    /// <summary>
    /// The EMA smoothing the plateau test uses: <c>min(ema, 1 - 1/W_eff)</c>, so the average's memory (about
    /// <c>1/(1 - ema)</c> steps) is no longer than a window. With 0.98 (a 50-step memory) and an 11-step window the
    /// EMA barely moves in the first windows even while the loss falls fast, and would read as a plateau.
    /// At the default W = 50 this is the configured 0.98.
    /// </summary>
    public double EffectiveEmaSmoothing => Math.Min(EmaSmoothing, 1 - 1.0 / EffectivePlateauWindow);

    private long Steps(double fraction) => (long)Math.Round(fraction * TotalSteps, MidpointRounding.AwayFromZero);
}

/// <summary>
/// What the curriculum remembers between steps; small and plain so a checkpoint stores it as JSON.
/// </summary>
/// <param name="Phase">The phase of the last step decided.</param>
/// <param name="PhaseStart">The step at which that phase began.</param>
/// <param name="Ema">EMA of the phase-1 gradient norm; null before the first measurement.</param>
/// <param name="EmaHistory">The last (at most 2W) EMA values, oldest first; phase 1 only.</param>
public sealed record CurriculumState(TrainingPhase Phase, long PhaseStart, double? Ema, double[] EmaHistory)
{
    public static CurriculumState Start { get; } = new(TrainingPhase.Anchor, 0, null, []);
}

/// <summary>Signals measured on the previous step.</summary>
/// <param name="ClipGradNorm"><c>||grad L_clip||</c> over the trainable parameters; null when not measured.</param>
public sealed record CurriculumSignals(double? ClipGradNorm)
{
    public static CurriculumSignals None { get; } = new((double?)null);
}

/// <summary>A phase change, taking effect at <paramref name="Step"/>.</summary>
/// <param name="Reason"><c>plateau</c> or <c>budget</c> for the end of phase 1, <c>ramp_complete</c> for the end of phase 2.</param>
public sealed record PhaseTransition(long Step, TrainingPhase From, TrainingPhase To, string Reason);

/// <summary>The curriculum's decision for one step.</summary>
public sealed record CurriculumPoint(CurriculumState State, TrainingPhase Phase, double Alpha, PhaseTransition? Transition);

/// <summary>
/// The three-phase curriculum of docs/METHOD.md as a pure function of (state, step, signals): no clock, no
/// randomness, no hidden fields, so a resumed run makes exactly the decisions an uninterrupted one makes.
/// </summary>
public static class ThreePhaseCurriculum
{
    /// <summary>Decides phase and alpha for <paramref name="step"/>, first folding in the signals of step - 1.</summary>
    public static CurriculumPoint Next(CurriculumOptions options, CurriculumState state, long step, CurriculumSignals signals)
    {
        if (state.Phase == TrainingPhase.Anchor && signals.ClipGradNorm is { } g && double.IsFinite(g))
            state = Observe(options, state, g);

        var transition = state.Phase switch
        {
            TrainingPhase.Anchor when step >= options.AnchorBudget => EndAnchor(options, step, "budget"),
            TrainingPhase.Anchor when step >= options.AnchorMinimum && HasPlateaued(options, state) => EndAnchor(options, step, "plateau"),
            TrainingPhase.Ramp when step - state.PhaseStart >= options.RampLength =>
                new PhaseTransition(step, TrainingPhase.Ramp, TrainingPhase.Consolidate, "ramp_complete"),
            _ => null,
        };
        if (transition is not null)
            state = new CurriculumState(transition.To, step, state.Ema, []);   // the history is only needed in phase 1
        return new CurriculumPoint(state, state.Phase, Alpha(options, state, step), transition);
    }

    /// <summary>The alignment share at <paramref name="step"/> in the phase <paramref name="state"/> describes.</summary>
    public static double Alpha(CurriculumOptions options, CurriculumState state, long step) => state.Phase switch
    {
        TrainingPhase.Anchor => 0.0,
        TrainingPhase.Ramp => options.AlphaTarget * (1 - Math.Cos(Math.PI * (step - state.PhaseStart) / options.RampLength)) / 2,
        _ => options.AlphaTarget,
    };

    private static PhaseTransition EndAnchor(CurriculumOptions options, long step, string reason) =>
        new(step, TrainingPhase.Anchor, options.RampLength > 0 ? TrainingPhase.Ramp : TrainingPhase.Consolidate, reason);

    private static CurriculumState Observe(CurriculumOptions options, CurriculumState state, double gradNorm)
    {
        var smoothing = options.EffectiveEmaSmoothing;
        var ema = state.Ema is { } previous ? smoothing * previous + (1 - smoothing) * gradNorm : gradNorm;
        var keep = 2 * options.EffectivePlateauWindow;
        var history = state.EmaHistory.Append(ema).TakeLast(keep).ToArray();
        return state with { Ema = ema, EmaHistory = history };
    }

    // Mean of the last W EMA values against the mean of the W before; needs 2W values (W the effective window).
    private static bool HasPlateaued(CurriculumOptions options, CurriculumState state)
    {
        var w = options.EffectivePlateauWindow;
        if (state.EmaHistory.Length < 2 * w) return false;
        var lastTwo = state.EmaHistory.TakeLast(2 * w).ToArray();   // a checkpoint may hold a longer history
        var earlier = lastTwo.Take(w).Average();
        var recent = lastTwo.Skip(w).Average();
        return earlier > 0 && Math.Abs(recent - earlier) / earlier < options.PlateauTol;
    }
}
