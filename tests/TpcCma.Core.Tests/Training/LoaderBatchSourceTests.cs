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
        using var scope = NewDisposeScope();
        var sequence = BatchSourceChecks.AssertJumpedBatchesMatchInOrder(Source);
        Assert.Equal(new long[] { 8, 3, 16, 16 }, sequence[0].Pixels.shape);
        Assert.Equal(new long[] { 8, 8 }, sequence[0].TokenIds.shape);
        using var source = Source();
        Assert.Equal(new LoaderPosition(2, 0), source.PositionOf(4));
    }

    [Fact]
    public void Trainer_TrainsOnRealImages_ThroughTheLoader() => BatchSourceChecks.AssertTrainerRuns(Source, tokenizer.VocabSize);

    public void Dispose()
    {
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }
}
