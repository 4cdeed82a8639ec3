using System.Threading.Channels;

namespace TpcCma.Data;

/// <summary>
/// Batches of preprocessed images with one caption each. The order of an epoch, the caption chosen for an image and
/// any augmentation are functions of (seed, epoch, sample), so a loader started at any <see cref="LoaderPosition"/>
/// yields exactly what an uninterrupted one yields from there. Decoding runs on worker threads that produce plain
/// float arrays into a bounded, order-keeping pipeline; tensors are made on the consuming thread, where the
/// caller's dispose scope lives.
/// </summary>
public sealed class ImageTextLoader : EpochBatchLoader
{
    private const long OrderPurpose = 1, CaptionPurpose = 2, AugmentPurpose = 3;

    private readonly ImageTextDataset dataset;
    private readonly ClipImageProcessor processor;
    private readonly PreprocessedCache? diskCache;
    private readonly MemoryCacheBudget<int>? memoryCache;

    public ImageTextLoader(ImageTextDataset dataset, ClipImageProcessor processor, LoaderOptions options) : base(options)
    {
        if (dataset.Samples.Count == 0) throw new ArgumentException("the dataset has no samples to load");
        this.dataset = dataset;
        this.processor = processor;
        if (options.CacheDirectory is not null) diskCache = new PreprocessedCache(options.CacheDirectory, processor.Config);
        if (options.CacheInMemory) memoryCache = new MemoryCacheBudget<int>(options.MemoryCacheBytes);
        RequireABatch();
    }

    protected override int SamplesPerEpoch => dataset.Samples.Count;

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

    protected override IEnumerable<ImageTextBatch> ServeEpoch(int epoch, int startBatch, CancellationToken ct)
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
            ServedSample Next(int position)
            {
                var result = pending.Reader.ReadAsync(cts.Token).AsTask().GetAwaiter().GetResult();
                var sampleIndex = order[position];
                var sample = dataset.Samples[sampleIndex];
                return new ServedSample(result.Task.GetAwaiter().GetResult(), CaptionFor(epoch, sampleIndex), dataset.LabelIndex(sample), sample.Id);
            }
            foreach (var batch in Assemble(epoch, startBatch, end, processor.Config.Size, Next))
                yield return batch;
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
