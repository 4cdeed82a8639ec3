using System.Text.Json;
using TpcCma.Curriculum;

namespace TpcCma.Core.Tests.Training;

public class CurriculumTests
{
    private static readonly CurriculumOptions Default = new(TotalSteps: 1000, AlphaTarget: 0.5);

    [Theory]
    [InlineData(0, TrainingPhase.Anchor, 0.0)]
    [InlineData(149, TrainingPhase.Anchor, 0.0)]
    [InlineData(150, TrainingPhase.Ramp, 0.0)]
    [InlineData(325, TrainingPhase.Ramp, 0.25)]                // u = 1/2: half of alpha_target
    [InlineData(499, TrainingPhase.Ramp, 0.49998993)]          // 0.5 (1 - cos(pi 349/350)) / 2
    [InlineData(500, TrainingPhase.Consolidate, 0.5)]
    [InlineData(999, TrainingPhase.Consolidate, 0.5)]
    public void Next_PhaseAndAlpha_WhenAnchorEndsOnBudget(int step, TrainingPhase phase, double alpha)
    {
        var points = Drive(Default, 1000, _ => null);
        Assert.Equal(phase, points[step].Phase);
        Assert.Equal(alpha, points[step].Alpha, 1e-8);
    }

    [Fact]
    public void Next_RecordsTransitionsWithStepAndReason_WhenAnchorEndsOnBudget()
    {
        var transitions = Drive(Default, 1000, _ => null).Select(p => p.Transition).OfType<PhaseTransition>().ToList();
        Assert.Equal(
            [new PhaseTransition(150, TrainingPhase.Anchor, TrainingPhase.Ramp, "budget"),
             new PhaseTransition(500, TrainingPhase.Ramp, TrainingPhase.Consolidate, "ramp_complete")],
            transitions);
    }

    public enum Signal { None, Constant, DecayingFast, Settling }

    [Theory]
    [InlineData(10, 0.05, Signal.Constant, 50, "plateau")]      // settled from the start: waits for p1_min T
    [InlineData(50, 0.05, Signal.Constant, 74, "plateau")]      // waits for 2W measurements, W = min(50, 150 / 4) = 37
    [InlineData(10, 0.15, Signal.Constant, 150, "budget")]      // p1_min = p1: a plateau can never come first
    [InlineData(10, 0.05, Signal.DecayingFast, 150, "budget")]  // still falling 10 % per step: never settles
    [InlineData(10, 0.05, Signal.None, 150, "budget")]          // nothing measured
    [InlineData(10, 0.05, Signal.Settling, 71, "plateau")]      // 1 + 9 exp(-t/10), EMA smoothing 0.9 (W = 10): settles after a while (step from an independent Python loop, tests/golden/plateau_rule.py)
    public void Next_EndsAnchor_OnPlateauOrBudget(int window, double p1Min, Signal signal, long expectedStep, string reason)
    {
        var options = Default with { PlateauWindow = window, P1Min = p1Min };
        Func<long, double?> norm = signal switch
        {
            Signal.Constant => _ => 2.0,
            Signal.DecayingFast => t => 10 * Math.Exp(-t / 10.0),
            Signal.Settling => t => 1 + 9 * Math.Exp(-t / 10.0),
            _ => _ => null,
        };
        var first = Drive(options, 400, norm).Select(p => p.Transition).OfType<PhaseTransition>().First();
        Assert.Equal(new PhaseTransition(expectedStep, TrainingPhase.Anchor, TrainingPhase.Ramp, reason), first);
    }

    [Theory]
    [InlineData(450, 17, 34, 68)]   // the spec's default T: budget 68, window 17 (not 50, which needs 100 values)
    [InlineData(300, 11, 22, 45)]   // the demo's T: budget 45
    [InlineData(20000, 50, 100, 3000)]   // a long run keeps the configured W
    public void EffectivePlateauWindow_ScalesWithThePhase1Budget(long steps, int window, long plateauStep, long budget)
    {
        var options = new TpcCma.Training.TrainingSpec { Steps = (int)steps }.Curriculum;
        Assert.Equal(budget, options.AnchorBudget);
        Assert.Equal(window, options.EffectivePlateauWindow);
        // A flat gradient norm ends phase 1 once both windows are full (and p1_min T has run).
        var flat = Drive(options, (int)budget + 1, _ => 2.0).Select(p => p.Transition).OfType<PhaseTransition>().First();
        Assert.Equal(new PhaseTransition(Math.Max(plateauStep, options.AnchorMinimum), TrainingPhase.Anchor, TrainingPhase.Ramp, "plateau"), flat);
    }

    [Theory]
    [InlineData(450)]
    [InlineData(300)]
    public void Next_DefaultLengthRun_EndsAnchorOnPlateauWhenFlat_AndOnBudgetWhenFalling(int steps)
    {
        var options = new TpcCma.Training.TrainingSpec { Steps = steps }.Curriculum;   // every other field at its default
        var flatNoise = new Random(7);
        var flat = Drive(options, steps, _ => 2.0 + 0.2 * (flatNoise.NextDouble() - 0.5))   // flat loss, +-5 % step noise
            .Select(p => p.Transition).OfType<PhaseTransition>().First();
        Assert.Equal("plateau", flat.Reason);
        Assert.True(flat.Step < options.AnchorBudget, $"plateau at {flat.Step}, budget {options.AnchorBudget}");
        // Still falling 3 % per step through the whole phase: the EMA never settles within tolerance.
        var falling = Drive(options, steps, t => 10 * Math.Exp(-0.03 * t)).Select(p => p.Transition).OfType<PhaseTransition>().First();
        Assert.Equal(new PhaseTransition(options.AnchorBudget, TrainingPhase.Anchor, TrainingPhase.Ramp, "budget"), falling);
    }

    [Fact]
    public void Next_RampFollowsPlateau_ForP2TimesT()
    {
        var points = Drive(Default with { PlateauWindow = 10 }, 1000, _ => 2.0);
        Assert.Equal(TrainingPhase.Ramp, points[50].Phase);
        Assert.Equal(TrainingPhase.Ramp, points[399].Phase);
        Assert.Equal(new PhaseTransition(400, TrainingPhase.Ramp, TrainingPhase.Consolidate, "ramp_complete"), points[400].Transition);
    }

    [Fact]
    public void Next_SkipsToConsolidate_WhenRampIsEmpty()
    {
        var points = Drive(Default with { P2 = 0 }, 300, _ => null);
        Assert.Equal(new PhaseTransition(150, TrainingPhase.Anchor, TrainingPhase.Consolidate, "budget"), points[150].Transition);
        Assert.Equal(0.5, points[150].Alpha);
    }

    [Fact]
    public void Next_AlphaStaysZero_WhenAlphaTargetIsZero()
    {
        Assert.All(Drive(Default with { AlphaTarget = 0 }, 1000, _ => 1.0), p => Assert.Equal(0.0, p.Alpha));
    }

    [Fact]
    public void Next_ResumedFromSerialisedState_MakesTheSameDecisions()
    {
        var options = Default with { PlateauWindow = 10 };
        Func<long, double?> norm = t => 1 + 9 * Math.Exp(-t / 10.0);
        var straight = Drive(options, 200, norm);

        var json = JsonSerializer.Serialize(straight[39].State);   // what a checkpoint after step 39 holds
        var state = JsonSerializer.Deserialize<CurriculumState>(json)!;
        for (long step = 40; step < 200; step++)
        {
            var point = ThreePhaseCurriculum.Next(options, state, step, new CurriculumSignals(norm(step - 1)));
            Assert.Equal(straight[(int)step].Alpha, point.Alpha);
            Assert.Equal(straight[(int)step].Transition, point.Transition);
            state = point.State;
        }
    }

    [Fact]
    public void State_KeepsAtMostTwoWindowsOfHistory()
    {
        var options = Default with { PlateauWindow = 5, PlateauTol = 1e-12 };
        var last = Drive(options, 140, t => 1.0 / (t + 1)).Last(p => p.Phase == TrainingPhase.Anchor);
        Assert.Equal(10, last.State.EmaHistory.Length);
    }

    // Runs steps 0..n-1; the signal fed at step t is the norm "measured" on step t - 1.
    private static List<CurriculumPoint> Drive(CurriculumOptions options, int n, Func<long, double?> norm)
    {
        var points = new List<CurriculumPoint>();
        var state = CurriculumState.Start;
        for (long step = 0; step < n; step++)
        {
            var signals = step == 0 ? CurriculumSignals.None : new CurriculumSignals(norm(step - 1));
            var point = ThreePhaseCurriculum.Next(options, state, step, signals);
            points.Add(point);
            state = point.State;
        }
        return points;
    }
}
