namespace TpcCma.Core.Tests.Training;

[Collection("Torch")]
public sealed class LoaderBatchSourceTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("tpccma-loader-src-").FullName;
    private readonly ImageTextDataset dataset;
    private readonly ClipTokenizer tokenizer;

    public LoaderBatchSourceTests()
    {
        dataset = TpcCma.Data.Sources.SyntheticShapes.Write(root, new TpcCma.Data.Sources.SyntheticShapesOptions(Count: 20, Size: 16, Seed: 3));
        tokenizer = ClipBpeTrainer.Train(dataset.Samples.SelectMany(s => s.Captions), vocabSize: 600);
    }

    private LoaderBatchSource Source() => new(
        new ImageTextLoader(dataset, new ClipImageProcessor(ImageProcessorConfig.Clip(16)),
            new LoaderOptions(BatchSize: 8, Seed: 5, DropLast: true)),
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
        Assert.Equal(new long[] { 8, 3, 16, 16 }, sequence[0].Pixels.shape);
        Assert.Equal(new long[] { 8, 8 }, sequence[0].TokenIds.shape);
        Assert.Equal(new LoaderPosition(2, 0), inOrder.PositionOf(4));
    }

    [Fact]
    public void Trainer_TrainsOnRealImages_ThroughTheLoader()
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

    public void Dispose()
    {
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }
}
