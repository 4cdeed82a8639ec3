using TpcCma.Training;

namespace TpcCma.Core.Tests.Training;

/// <summary>
/// "Resume equals uninterrupted" for a method's spec: one run straight through, one cancelled after a step and resumed
/// from its checkpoint by a new trainer; every loss after the cancel must match bit for bit (one thread, CPU).
/// </summary>
public static class ResumeCheck
{
    /// <param name="spec">The method under test, with <see cref="TrainerFixtures.Spec"/>'s micro settings.</param>
    /// <param name="cancelAfter">The last step of the first, cancelled run.</param>
    /// <param name="resumeModelSeed">Initialisation of the model handed to the resuming trainer: a different seed shows
    /// the weights come from the checkpoint; methods that copy the starting model (a frozen teacher) need the same one.</param>
    /// <returns>The straight run's observer, for checks of what the method logs.</returns>
    public static RecordingObserver AssertResumedRunMatchesStraightRun(TrainingSpec spec, long cancelAfter, long resumeModelSeed)
    {
        const long startSeed = 5;
        using var threads = TrainerFixtures.SingleThread();
        using var batches = TrainerFixtures.Batches(pool: 32, batch: spec.BatchSize);
        var straight = new RecordingObserver();
        using (var model = TrainerFixtures.Model(startSeed))
        using (var trainer = new Trainer(spec, model, batches, TrainerFixtures.TempDirectory(), straight))
            trainer.Run(CancellationToken.None);

        var folder = TrainerFixtures.TempDirectory();
        using var cts = new CancellationTokenSource();
        var first = new RecordingObserver { AfterMetrics = step => { if (step == cancelAfter) cts.Cancel(); } };
        using (var model = TrainerFixtures.Model(startSeed))
        using (var trainer = new Trainer(spec, model, batches, folder, first))
            Assert.ThrowsAny<OperationCanceledException>(() => trainer.Run(cts.Token));
        var resumed = new RecordingObserver();
        using (var model = TrainerFixtures.Model(resumeModelSeed))
        using (var trainer = new Trainer(spec, model, batches, folder, resumed))
            trainer.Run(CancellationToken.None);

        // It did resume (a fresh start from the same seed would also match), and every later step matches.
        Assert.Equal("resumed", resumed.Events[0].Kind);
        Assert.Equal(cancelAfter + 1, resumed.Metrics.Keys.Min());
        for (var step = cancelAfter + 1; step <= spec.Steps; step++)
            Assert.Equal(straight.Metrics[step]["loss"], resumed.Metrics[step]["loss"]);
        return straight;
    }
}
