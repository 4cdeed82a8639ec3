namespace TpcCma.Core.Tests.Training;

/// <summary>
/// What every loader-backed batch source must do, whatever reads the samples (files or shards): give the same batch
/// whether read in order or jumped to (resume depends on it), and feed the trainer.
/// </summary>
internal static class BatchSourceChecks
{
    /// <summary>
    /// Reads five batches in order (two batches an epoch: crosses epochs) and jumps to three of them on a second source.
    /// Returns the in-order batches, whose tensors belong to the caller's dispose scope.
    /// </summary>
    public static List<TrainingBatch> AssertJumpedBatchesMatchInOrder(Func<LoaderBatchSource> newSource)
    {
        using var inOrder = newSource();
        using var jumping = newSource();
        var sequence = Enumerable.Range(0, 5).Select(p => inOrder.Batch(p)).ToList();
        foreach (var p in new[] { 3, 0, 4 })
        {
            var jumped = jumping.Batch(p);
            Assert.True(jumped.Pixels.eq(sequence[p].Pixels).all().item<bool>(), $"pixels of batch {p}");
            Assert.True(jumped.TokenIds.eq(sequence[p].TokenIds).all().item<bool>(), $"token ids of batch {p}");
        }
        return sequence;
    }

    /// <summary>Twelve steps of the micro model on <paramref name="newSource"/>'s batches, every loss finite.</summary>
    public static void AssertTrainerRuns(Func<LoaderBatchSource> newSource, int vocabSize)
    {
        using var threads = TrainerFixtures.SingleThread();
        torch.manual_seed(12);
        using var model = new ClipModel(TrainerFixtures.MicroConfig with { VocabSize = vocabSize });
        using var source = newSource();
        var observer = new RecordingObserver();
        using var trainer = new Trainer(TrainerFixtures.Spec(12), model, source, TrainerFixtures.TempDirectory(), observer);
        var result = trainer.Run(CancellationToken.None);
        Assert.Equal(12, result.Steps);
        Assert.All(observer.Metrics.Values, m => Assert.True(double.IsFinite(m["loss"])));
    }
}
