namespace TpcCma.Training;

/// <summary>
/// The learning rate of docs/METHOD.md: linear warm-up, constant through phases 1 and 2, cosine decay to
/// <c>FinalFraction * BaseLr</c> over phase 3. A pure function of the step and the step where phase 3 began
/// (which the curriculum decides and the checkpoint stores).
/// </summary>
public sealed record LrSchedule(double BaseLr, long TotalSteps, long WarmupSteps, double FinalFraction = 0.1)
{
    /// <param name="step">The optimiser step, from 0.</param>
    /// <param name="decayStart">The first step of phase 3; null while it has not begun.</param>
    public double At(long step, long? decayStart)
    {
        var warmup = step < WarmupSteps ? (step + 1) / (double)WarmupSteps : 1.0;
        var decay = 1.0;
        if (decayStart is { } start && step >= start)
        {
            // The last step (T - 1) lands exactly on FinalFraction.
            var progress = Math.Min(1.0, (step - start) / (double)Math.Max(1, TotalSteps - 1 - start));
            decay = FinalFraction + (1 - FinalFraction) * (1 + Math.Cos(Math.PI * progress)) / 2;
        }
        return BaseLr * warmup * decay;
    }
}
