using TpcCma.Data;
using TpcCma.Tokenization;

namespace TpcCma.Training;

/// <summary>
/// Feeds the trainer from an <see cref="IBatchLoader"/> (files or shards): batch <c>p</c> is batch <c>p mod n</c> of epoch
/// <c>p / n</c> (n batches per epoch, every batch full), captions tokenized to the model's context length, both
/// moved to the model's device. Reading in order reuses one loader stream (with its decode-ahead); a jump,
/// as after a resume, starts a new stream at that position, which yields the same data.
/// </summary>
public sealed class LoaderBatchSource : IBatchSource, IDisposable
{
    private readonly IBatchLoader loader;
    private readonly ClipTokenizer tokenizer;
    private readonly int contextLength;
    private IEnumerator<ImageTextBatch>? stream;
    private LoaderPosition next;

    public LoaderBatchSource(IBatchLoader loader, ClipTokenizer tokenizer, int contextLength)
    {
        if (!loader.Options.DropLast)
            throw new ArgumentException("the trainer needs full batches: build the loader with DropLast = true");
        (this.loader, this.tokenizer, this.contextLength) = (loader, tokenizer, contextLength);
    }

    public int BatchSize => loader.Options.BatchSize;

    /// <summary>The loader position of trainer batch <paramref name="position"/>.</summary>
    public LoaderPosition PositionOf(long position) =>
        new(checked((int)(position / loader.BatchesPerEpoch)), (int)(position % loader.BatchesPerEpoch));

    public TrainingBatch Batch(long position)
    {
        var at = PositionOf(position);
        if (stream is null || at != next)
        {
            stream?.Dispose();
            stream = loader.Read(at).GetEnumerator();
        }
        if (!stream.MoveNext()) throw new InvalidOperationException($"the loader ended before epoch {at.Epoch}, batch {at.Batch}");
        next = loader.After(at);
        var batch = stream.Current;                                       // pixels made in the caller's dispose scope
        var ids = tokenizer.Tokenize(batch.Captions, contextLength);      // [B, L] int64
        return new TrainingBatch(batch.Pixels, ids);
    }

    public void Dispose() => stream?.Dispose();
}
