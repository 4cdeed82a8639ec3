using static TorchSharp.torch;

namespace TpcCma.Data;

/// <summary>
/// What every <see cref="IBatchLoader"/> does alike, whatever it reads: epochs of a fixed number of samples cut into
/// batches, the position after a batch, reading from any position epoch after epoch, and assembling the pixels of a
/// batch into one tensor on the consuming thread. A loader says how many samples an epoch serves and serves one epoch
/// from a given batch on.
/// </summary>
public abstract class EpochBatchLoader : IBatchLoader
{
    protected EpochBatchLoader(LoaderOptions options) => Options = options.Validated();

    public LoaderOptions Options { get; }

    /// <summary>Samples one epoch serves, the short last batch included.</summary>
    protected abstract int SamplesPerEpoch { get; }

    /// <summary>Batches in one epoch (the last one may be short unless <see cref="LoaderOptions.DropLast"/>).</summary>
    public int BatchesPerEpoch => Options.DropLast
        ? SamplesPerEpoch / Options.BatchSize
        : (SamplesPerEpoch + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>The position after <paramref name="position"/>: the next batch, or the first batch of the next epoch.</summary>
    public LoaderPosition After(LoaderPosition position) =>
        position.Batch + 1 < BatchesPerEpoch ? position with { Batch = position.Batch + 1 } : new LoaderPosition(position.Epoch + 1, 0);

    /// <summary>Batches from <paramref name="from"/> on, epoch after epoch, until the caller stops enumerating.</summary>
    public IEnumerable<ImageTextBatch> Read(LoaderPosition from, CancellationToken ct = default)
    {
        for (var epoch = from.Epoch; ; epoch++)
            foreach (var batch in ReadEpoch(epoch, epoch == from.Epoch ? from.Batch : 0, ct))
                yield return batch;
    }

    /// <summary>The batches of one epoch, starting at <paramref name="startBatch"/>. Dispose each batch (or scope it).</summary>
    public IEnumerable<ImageTextBatch> ReadEpoch(int epoch, int startBatch = 0, CancellationToken ct = default)
    {
        // Checked here, not on first enumeration, so a bad position fails where it is asked for.
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), $"epoch must be >= 0, got {epoch}");
        if (startBatch < 0 || startBatch > BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(startBatch), $"batch {startBatch} is outside 0..{BatchesPerEpoch}");
        return ServeEpoch(epoch, startBatch, ct);
    }

    /// <summary>The batches of <paramref name="epoch"/> from <paramref name="startBatch"/> on; both already checked.</summary>
    protected abstract IEnumerable<ImageTextBatch> ServeEpoch(int epoch, int startBatch, CancellationToken ct);

    /// <summary>Throws when drop-last leaves an epoch without a batch; call at the end of the constructor.</summary>
    protected void RequireABatch()
    {
        if (BatchesPerEpoch == 0)
            throw new ArgumentException($"batch size {Options.BatchSize} with drop-last leaves no batch from {SamplesPerEpoch} samples");
    }

    /// <summary>One sample as a batch holds it: preprocessed pixels [3, S, S] as floats, caption, label index, id.</summary>
    protected readonly record struct ServedSample(float[] Pixels, string Caption, int Label, string Id);

    /// <summary>
    /// The batches of positions <c>startBatch * B</c> up to <paramref name="end"/> (exclusive) of <paramref name="epoch"/>,
    /// each sample taken from <paramref name="next"/> in serving order (it may block until the sample is decoded).
    /// The tensor is made here, on the consumer's thread, so it joins the caller's dispose scope.
    /// </summary>
    protected IEnumerable<ImageTextBatch> Assemble(int epoch, int startBatch, int end, int imageSize, Func<int, ServedSample> next)
    {
        var batchSize = Options.BatchSize;
        var imageLength = 3 * imageSize * imageSize;
        for (var start = startBatch * batchSize; start < end; start += batchSize)
        {
            var count = Math.Min(batchSize, end - start);
            var pixels = new float[count * imageLength];
            var captions = new string[count];
            var labels = new int[count];
            var ids = new string[count];
            for (var i = 0; i < count; i++)
            {
                var sample = next(start + i);
                sample.Pixels.CopyTo(pixels, i * imageLength);
                (captions[i], labels[i], ids[i]) = (sample.Caption, sample.Label, sample.Id);
            }
            var batchPixels = tensor(pixels, [count, 3, imageSize, imageSize], ScalarType.Float32);   // [B, 3, S, S]
            yield return new ImageTextBatch(batchPixels, captions, labels, ids) { Position = new LoaderPosition(epoch, start / batchSize) };
        }
    }
}
