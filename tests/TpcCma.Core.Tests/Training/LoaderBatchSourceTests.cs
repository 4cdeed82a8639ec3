namespace TpcCma.Core.Tests.Training;

/// <summary>The batch source over image files on disk.</summary>
[Collection("Torch")]
public sealed class LoaderBatchSourceTests : BatchSourceContract
{
    private readonly ImageTextDataset dataset;
    private readonly ClipTokenizer tokenizer;

    public LoaderBatchSourceTests()
    {
        dataset = SyntheticShapes.Write(Root, new SyntheticShapesOptions(Count: 20, Size: 16, Seed: 3));
        tokenizer = ClipBpeTrainer.Train(dataset.Samples.SelectMany(s => s.Captions), vocabSize: 600);
    }

    protected override int VocabSize => tokenizer.VocabSize;

    protected override LoaderBatchSource Source() => new(
        new ImageTextLoader(dataset, new ClipImageProcessor(ImageProcessorConfig.Clip(16)),
            new LoaderOptions(BatchSize: 8, Seed: 5, DropLast: true)),
        tokenizer, contextLength: 8);

    protected override void AssertInOrderBatches(IReadOnlyList<TrainingBatch> sequence)
    {
        Assert.Equal(new long[] { 8, 3, 16, 16 }, sequence[0].Pixels.shape);
        Assert.Equal(new long[] { 8, 8 }, sequence[0].TokenIds.shape);
        using var source = Source();
        Assert.Equal(new LoaderPosition(2, 0), source.PositionOf(4));
    }
}
