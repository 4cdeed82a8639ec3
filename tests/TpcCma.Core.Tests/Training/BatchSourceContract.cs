namespace TpcCma.Core.Tests.Training;

/// <summary>
/// What every loader-backed batch source must do, whatever reads the samples (files or shards): give the same batch
/// whether read in order or jumped to (resume depends on it), and feed the trainer. A subclass writes its samples
/// under <see cref="Root"/> and says how its source is built.
/// </summary>
public abstract class BatchSourceContract : IDisposable
{
    protected string Root { get; }

    protected BatchSourceContract() => Root = Directory.CreateTempSubdirectory($"tpccma-{GetType().Name}-").FullName;

    protected abstract LoaderBatchSource Source();

    /// <summary>The vocabulary size of the tokenizer the source encodes captions with.</summary>
    protected abstract int VocabSize { get; }

    /// <summary>What this source adds to the contract, checked on five batches read in order.</summary>
    protected abstract void AssertInOrderBatches(IReadOnlyList<TrainingBatch> sequence);

    [Fact]
    public void Batch_IsTheSame_WhetherReadInOrderOrJumpedTo()
    {
        using var inOrder = Source();
        using var jumping = Source();
        using var scope = NewDisposeScope();
        var sequence = Enumerable.Range(0, 5).Select(p => inOrder.Batch(p)).ToList();   // 2 batches per epoch: crosses epochs
        foreach (var p in new[] { 3, 0, 4 })
        {
            var jumped = jumping.Batch(p);
            Assert.True(jumped.Pixels.eq(sequence[p].Pixels).all().item<bool>(), $"pixels of batch {p}");
            Assert.True(jumped.TokenIds.eq(sequence[p].TokenIds).all().item<bool>(), $"token ids of batch {p}");
        }
        AssertInOrderBatches(sequence);
    }

    [Fact]
    public void Trainer_Trains_ThroughTheLoader()
    {
        using var threads = TrainerFixtures.SingleThread();
        torch.manual_seed(12);
        using var model = new ClipModel(TrainerFixtures.MicroConfig with { VocabSize = VocabSize });
        using var source = Source();
        var observer = new RecordingObserver();
        using var trainer = new Trainer(TrainerFixtures.Spec(12), model, source, TrainerFixtures.TempDirectory(), observer);
        var result = trainer.Run(CancellationToken.None);
        Assert.Equal(12, result.Steps);
        Assert.All(observer.Metrics.Values, m => Assert.True(double.IsFinite(m["loss"])));
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
        GC.SuppressFinalize(this);
    }
}
