namespace TpcCma.Core.Tests.Training;

/// <summary>The trainer fed from WebDataset shards through the same batch source as from files.</summary>
[Collection("Torch")]
public sealed class ShardBatchSourceTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("tpccma-shard-src-").FullName;
    private readonly ShardSet shards;
    private readonly ClipTokenizer tokenizer;

    public ShardBatchSourceTests()
    {
        var options = new SyntheticShapesOptions(Count: 20, Size: 16, Seed: 3);
        ShardConversion.WriteSynthetic(root, options, shardSize: 6);
        shards = ShardSet.Open(root);
        tokenizer = ClipBpeTrainer.Train(Enumerable.Range(0, 20).SelectMany(i => SyntheticShapes.Draw(i, options).Captions), vocabSize: 600);
    }

    private LoaderBatchSource Source() => new(
        new ShardedLoader(shards, new ClipImageProcessor(ImageProcessorConfig.Clip(16)), new LoaderOptions(BatchSize: 8, Seed: 5, DropLast: true),
            new ShardLoaderOptions(ShuffleBuffer: 4)),
        tokenizer, contextLength: 8);

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
        Assert.False(sequence[0].Pixels.eq(sequence[2].Pixels).all().item<bool>()); // epoch 1 is ordered differently
    }

    [Fact]
    public void Trainer_TrainsOnShards_ThroughTheLoader()
    {
        using var threads = TrainerFixtures.SingleThread();
        torch.manual_seed(12);
        using var model = new ClipModel(TrainerFixtures.MicroConfig with { VocabSize = tokenizer.VocabSize });
        using var source = Source();
        var observer = new RecordingObserver();
        using var trainer = new Trainer(TrainerFixtures.Spec(12), model, source, TrainerFixtures.TempDirectory(), observer);
        var result = trainer.Run(CancellationToken.None);
        Assert.Equal(12, result.Steps);
        Assert.All(observer.Metrics.Values, m => Assert.True(double.IsFinite(m["loss"])));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
