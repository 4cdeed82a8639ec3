using static TorchSharp.torch;

namespace TpcCma.Training;

/// <summary>
/// A fixed pool of random image-caption pairs, drawn from without replacement per batch. For smoke runs,
/// benchmarks and tests: the only thing to learn is which random image goes with which random caption,
/// which a model can memorise, so the contrastive loss falls. Batch <c>p</c> depends only on (seed, p).
/// </summary>
public sealed class SyntheticBatchSource : IBatchSource, IDisposable
{
    private readonly Tensor pixels;   // [N, 3, S, S]
    private readonly Tensor ids;      // [N, L]
    private readonly long seed;

    /// <param name="poolSize">Distinct pairs N; with N = batch size every batch is the same pairs (in another order).</param>
    /// <param name="vocabSize">The model's vocabulary; the last id plays EOT (the highest id, where CLIP pools).</param>
    public SyntheticBatchSource(int poolSize, int batchSize, int imageSize, int contextLength, int vocabSize, long seed)
    {
        if (batchSize < 2 || poolSize < batchSize) throw new ArgumentException($"need 2 <= batch size ({batchSize}) <= pool size ({poolSize})");
        if (contextLength < 3 || vocabSize < 4) throw new ArgumentException("need a context of at least 3 tokens and a vocabulary of at least 4");
        BatchSize = batchSize;
        this.seed = seed;
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        pixels = randn([poolSize, 3, imageSize, imageSize], generator: generator).DetachFromDisposeScope();
        var lengths = randint(1, contextLength - 1, [poolSize, 1], generator: generator);                   // tokens before EOT
        var body = randint(1, vocabSize - 1, [poolSize, contextLength], generator: generator);
        var position = arange(contextLength).unsqueeze(0);                                                 // [1, L]
        var eot = full([poolSize, contextLength], vocabSize - 1, ScalarType.Int64);
        ids = where(position < lengths, body, where(position == lengths, eot, zeros_like(body))).DetachFromDisposeScope();
    }

    public int BatchSize { get; }

    public TrainingBatch Batch(long position)
    {
        using var generator = new Generator((ulong)(seed * 1_000_003 + position));
        var pick = randperm(pixels.shape[0], generator: generator)[..BatchSize];
        return new TrainingBatch(pixels.index_select(0, pick), ids.index_select(0, pick));
    }

    public void Dispose()
    {
        pixels.Dispose();
        ids.Dispose();
    }
}
