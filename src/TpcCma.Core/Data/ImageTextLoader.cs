using System.Threading.Channels;
using static TorchSharp.torch;

namespace TpcCma.Data;

/// <summary>
/// Batches of preprocessed images with one caption each. The order of an epoch, the caption chosen for an image and
/// any augmentation are functions of (seed, epoch, sample), so a loader started at any <see cref="LoaderPosition"/>
/// yields exactly what an uninterrupted one yields from there. Decoding runs on worker threads that produce plain
/// float arrays into a bounded, order-keeping pipeline; tensors are made on the consuming thread, where the
/// caller's dispose scope lives.
/// </summary>
public sealed class ImageTextLoader : IBatchLoader
{
    private const long OrderPurpose = 1, CaptionPurpose = 2, AugmentPurpose = 3;

    private readonly ImageTextDataset dataset;
    private readonly ClipImageProcessor processor;
    private readonly PreprocessedCache? diskCache;
    private readonly MemoryCacheBudget<int>? memoryCache;

    public LoaderOptions Options { get; }

    public ImageTextLoader(ImageTextDataset dataset, ClipImageProcessor processor, LoaderOptions options)
    {
        if (dataset.Samples.Count == 0) throw new ArgumentException("the dataset has no samples to load");
        this.dataset = dataset;
        this.processor = processor;
        Options = options.Validated();
        if (options.CacheDirectory is not null) diskCache = new PreprocessedCache(options.CacheDirectory, processor.Config);
        if (options.CacheInMemory) memoryCache = new MemoryCacheBudget<int>(options.MemoryCacheBytes);
        if (BatchesPerEpoch == 0)
            throw new ArgumentException($"batch size {options.BatchSize} with drop-last leaves no batch from {dataset.Samples.Count} samples");
    }

    /// <summary>Batches in one epoch (the last one may be short unless <see cref="LoaderOptions.DropLast"/>).</summary>
    public int BatchesPerEpoch => Options.DropLast
        ? dataset.Samples.Count / Options.BatchSize
        : (dataset.Samples.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>The sample indices of an epoch in the order they are served.</summary>
    public int[] EpochOrder(int epoch) => Options.Shuffle
        ? new DeterministicRandom(DeterministicRandom.Mix(Options.Seed, epoch, OrderPurpose)).Permutation(dataset.Samples.Count)
        : Enumerable.Range(0, dataset.Samples.Count).ToArray();

    /// <summary>The caption served for a sample in an epoch: one of its captions, chosen from (seed, epoch, sample).</summary>
    public string CaptionFor(int epoch, int sampleIndex)
    {
        var captions = dataset.Samples[sampleIndex].Captions;
        return captions.Count == 1
            ? captions[0]
            : captions[new DeterministicRandom(DeterministicRandom.Mix(Options.Seed, epoch, sampleIndex, CaptionPurpose)).Next(captions.Count)];
    }

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
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), $"epoch must be >= 0, got {epoch}");
        if (startBatch < 0 || startBatch > BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(startBatch), $"batch {startBatch} is outside 0..{BatchesPerEpoch}");
        return Pipeline(epoch, startBatch, ct);
    }

    private IEnumerable<ImageTextBatch> Pipeline(int epoch, int startBatch, CancellationToken ct)
    {
        var order = EpochOrder(epoch);
        var batchSize = Options.BatchSize;
        var end = Options.DropLast ? BatchesPerEpoch * batchSize : order.Length;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // `pending` keeps serving order and bounds how far decoding runs ahead; `work` feeds the decode threads.
        var pending = Channel.CreateBounded<TaskCompletionSource<float[]>>(Options.PrefetchBatches * batchSize);
        var work = Channel.CreateUnbounded<(int SampleIndex, TaskCompletionSource<float[]> Result)>();
        var producer = Task.Run(() => Produce(order, startBatch * batchSize, end, pending.Writer, work.Writer, cts.Token));
        var workers = Enumerable.Range(0, Options.Workers)
            .Select(_ => Task.Run(() => Decode(epoch, work.Reader, cts.Token)))
            .Append(producer)
            .ToArray();
        try
        {
            var size = processor.Config.Size;
            var imageLength = 3 * size * size;
            for (var start = startBatch * batchSize; start < end; start += batchSize)
            {
                var count = Math.Min(batchSize, end - start);
                var pixels = new float[count * imageLength];
                var captions = new string[count];
                var labels = new int[count];
                var ids = new string[count];
                for (var i = 0; i < count; i++)
                {
                    var result = pending.Reader.ReadAsync(cts.Token).AsTask().GetAwaiter().GetResult();
                    result.Task.GetAwaiter().GetResult().CopyTo(pixels, i * imageLength);
                    var sampleIndex = order[start + i];
                    var sample = dataset.Samples[sampleIndex];
                    captions[i] = CaptionFor(epoch, sampleIndex);
                    labels[i] = dataset.LabelIndex(sample);
                    ids[i] = sample.Id;
                }
                // Made here, on the consumer's thread, so it joins the caller's dispose scope.
                var batchPixels = tensor(pixels, [count, 3, size, size], ScalarType.Float32);
                yield return new ImageTextBatch(batchPixels, captions, labels, ids) { Position = new LoaderPosition(epoch, start / batchSize) };
            }
        }
        finally
        {
            cts.Cancel();
            try { Task.WaitAll(workers); }
            catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OperationCanceledException)) { }
        }
    }

    private static async Task Produce(int[] order, int first, int end, ChannelWriter<TaskCompletionSource<float[]>> pending,
        ChannelWriter<(int, TaskCompletionSource<float[]>)> work, CancellationToken ct)
    {
        try
        {
            for (var position = first; position < end; position++)
            {
                var result = new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously);
                await pending.WriteAsync(result, ct);
                work.TryWrite((order[position], result));
            }
        }
        finally
        {
            pending.TryComplete();
            work.TryComplete();
        }
    }

    private async Task Decode(int epoch, ChannelReader<(int SampleIndex, TaskCompletionSource<float[]> Result)> work, CancellationToken ct)
    {
        await foreach (var (sampleIndex, result) in work.ReadAllAsync(ct))
        {
            // Errors travel to the consumer, which rethrows them at this sample's place in the batch.
            try { result.SetResult(Preprocess(epoch, sampleIndex)); }
            catch (Exception ex) { result.SetException(ex); }
        }
    }

    /// <summary>One sample's pixels [3, S, S] as floats: from a cache when allowed, else decoded (and augmented).</summary>
    internal float[] Preprocess(int epoch, int sampleIndex)
    {
        if (memoryCache?.TryGet(sampleIndex) is { } kept) return kept;
        var path = dataset.Samples[sampleIndex].ImagePath;
        var values = diskCache?.TryRead(path);
        if (values is null)
        {
            using var image = ImageLoader.Load(path);
            if (Options.Augmentation is { } augmentation)
            {
                var random = new DeterministicRandom(DeterministicRandom.Mix(Options.Seed, epoch, sampleIndex, AugmentPurpose));
                var crop = RandomResizedCrop.Choose(image.Width, image.Height, augmentation.MinScale, augmentation.MaxScale, random);
                var flip = augmentation.HorizontalFlip && random.NextDouble() < 0.5;
                return processor.ProcessCropToArray(image, crop, flip);
            }
            values = processor.ProcessToArray(image);
            diskCache?.Write(path, values);
        }
        memoryCache?.TryAdd(sampleIndex, values);
        return values;
    }
}
