namespace TpcCma.Core.Tests.Training;

/// <summary>The trainer fed from WebDataset shards through the same batch source as from files.</summary>
[Collection("Torch")]
public sealed class ShardBatchSourceTests : BatchSourceContract
{
    private readonly ShardSet shards;
    private readonly ClipTokenizer tokenizer;

    public ShardBatchSourceTests()
    {
        var options = new SyntheticShapesOptions(Count: 20, Size: 16, Seed: 3);
        ShardConversion.WriteSynthetic(Root, options, shardSize: 6);
        shards = ShardSet.Open(Root);
        tokenizer = ClipBpeTrainer.Train(Enumerable.Range(0, 20).SelectMany(i => SyntheticShapes.Draw(i, options).Captions), vocabSize: 600);
    }

    protected override int VocabSize => tokenizer.VocabSize;

    protected override LoaderBatchSource Source() => new(
        new ShardedLoader(shards, new ClipImageProcessor(ImageProcessorConfig.Clip(16)), new LoaderOptions(BatchSize: 8, Seed: 5, DropLast: true),
            new ShardLoaderOptions(ShuffleBuffer: 4)),
        tokenizer, contextLength: 8);

    protected override void AssertInOrderBatches(IReadOnlyList<TrainingBatch> sequence) =>
        Assert.False(sequence[0].Pixels.eq(sequence[2].Pixels).all().item<bool>()); // epoch 1 is ordered differently
}
