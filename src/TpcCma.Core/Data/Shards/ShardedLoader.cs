using System.Collections.Concurrent;
using System.Threading.Channels;

namespace TpcCma.Data.Shards;

/// <summary>How a <see cref="ShardedLoader"/> reads its shards.</summary>
/// <param name="ShuffleBuffer">Samples held to shuffle within a shard (WebDataset's shuffle buffer); 1 keeps stored order.</param>
/// <param name="Split">Only samples of this split (from <c>KEY.json</c> or the shard list); null for all.</param>
/// <param name="Policy"><c>Fail</c>: any problem found by the scan refuses the data set. <c>Skip</c>: bad samples and the
/// unreadable rest of a corrupt shard are left out, and counted per epoch.</param>
public sealed record ShardLoaderOptions(int ShuffleBuffer = 1000, string? Split = null, ValidationPolicy Policy = ValidationPolicy.Fail)
{
    public ShardLoaderOptions Validated() => ShuffleBuffer >= 1 ? this : throw new ArgumentException($"shuffle buffer must be >= 1, got {ShuffleBuffer}");
}

/// <summary>
/// Batches from WebDataset shards, read as streams and decoded by worker threads (the same preprocessing as
/// <see cref="ImageTextLoader"/>). An epoch reads the shards in an order drawn from (seed, epoch) and shuffles each
/// shard's samples through a buffer drawn from (seed, epoch, shard); captions and augmentation are drawn from
/// (seed, epoch, position). A scan at construction counts each shard's usable samples, so a loader started at any
/// <see cref="LoaderPosition"/> skips whole shards unread, replays the buffer of the shard it lands in without
/// decoding, and serves exactly what an uninterrupted loader serves from there.
/// </summary>
public sealed class ShardedLoader : EpochBatchLoader
{
    private const long ShardOrderPurpose = 11, BufferPurpose = 12, CaptionPurpose = 13, AugmentPurpose = 14;

    private readonly ShardSet set;
    private readonly ClipImageProcessor processor;
    private readonly ShardLoaderOptions shardOptions;
    private readonly Dictionary<string, int> classIndex;
    private readonly MemoryCacheBudget<(int Shard, string Key)>? memoryCache;
    private readonly ConcurrentDictionary<int, int> skipped = new();
    private readonly ConcurrentQueue<DatasetError> skippedErrors = new();

    public ShardScanReport Scan { get; }
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Usable samples in the selected split: what one epoch serves (less the short batch under drop-last).</summary>
    public int SampleCount { get; }

    /// <param name="scan">A header-level scan of <paramref name="set"/> already made; read here when null.</param>
    public ShardedLoader(ShardSet set, ClipImageProcessor processor, LoaderOptions options, ShardLoaderOptions? shardOptions = null, ShardScanReport? scan = null)
        : base(options)
    {
        this.set = set;
        this.processor = processor;
        this.shardOptions = (shardOptions ?? new ShardLoaderOptions()).Validated();
        if (options.CacheDirectory is not null) throw new ArgumentException("the on-disk cache keys images by file; shards use the in-memory cache (with its byte budget) instead");
        Scan = scan ?? ShardScanner.Scan(set, ImageCheck.Header, options.Workers, maxReportedErrors: 1000);
        if (this.shardOptions.Policy == ValidationPolicy.Fail && Scan.ErrorCount > 0) throw new DatasetValidationException(Scan.Errors);
        ClassNames = set.DeclaredClassNames ?? Scan.Labels;
        classIndex = ClassNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        SampleCount = Scan.Shards.Sum(s => s.UsableIn(this.shardOptions.Split));
        if (SampleCount == 0)
            throw new ArgumentException(this.shardOptions.Split is { } split
                ? $"the shards hold no usable samples of split '{split}' (splits: {string.Join(", ", Scan.Splits)})"
                : "the shards hold no usable samples");
        if (options.CacheInMemory) memoryCache = new(options.MemoryCacheBytes);
        RequireABatch();
    }

    /// <summary>Bytes held by the in-memory cache: never more than <see cref="LoaderOptions.MemoryCacheBytes"/>.</summary>
    public long CachedBytes => memoryCache?.UsedBytes ?? 0;

    protected override int SamplesPerEpoch => SampleCount;

    /// <summary>Samples left out while reading <paramref name="epoch"/> (bad samples, plus one per corrupt shard), as far as it was read.</summary>
    public int SkippedIn(int epoch) => skipped.GetValueOrDefault(epoch);

    /// <summary>Samples left out per epoch read so far, by epoch.</summary>
    public IReadOnlyDictionary<int, int> SkippedByEpoch => skipped.OrderBy(p => p.Key).ToDictionary(p => p.Key, p => p.Value);

    /// <summary>The problems behind the skipped samples, the first 1,000 seen.</summary>
    public IReadOnlyList<DatasetError> SkippedErrors => [.. skippedErrors];

    /// <summary>The shard indices in the order epoch <paramref name="epoch"/> reads them.</summary>
    public int[] ShardOrder(int epoch) => Options.Shuffle
        ? new DeterministicRandom(DeterministicRandom.Mix(Options.Seed, epoch, ShardOrderPurpose)).Permutation(set.Shards.Count)
        : Enumerable.Range(0, set.Shards.Count).ToArray();

    /// <summary>The epoch's usable samples in serving order with their positions, from position <paramref name="first"/> on.</summary>
    internal IEnumerable<(ShardSample Sample, int ShardIndex, int Position)> EpochSamples(int epoch, int first, CancellationToken ct)
    {
        var position = 0;
        foreach (var shardIndex in ShardOrder(epoch))
        {
            var count = Scan.Shards[shardIndex].UsableIn(shardOptions.Split);
            if (count == 0) continue;
            if (position + count <= first)
            {
                position += count; // wholly before the start: not even opened
                continue;
            }
            var served = 0;
            var random = new DeterministicRandom(DeterministicRandom.Mix(Options.Seed, epoch, shardIndex, BufferPurpose));
            var buffer = Options.Shuffle ? shardOptions.ShuffleBuffer : 1;
            foreach (var sample in Shuffled(UsableSamples(epoch, shardIndex, ct), buffer, random))
            {
                served++;
                if (position >= first) yield return (sample, shardIndex, position);
                position++;
            }
            if (served != count)
                throw new ShardReadException(set.Shards[shardIndex].Name, null, DatasetErrorKind.CorruptShard,
                    $"the shard gave {served} usable samples where the scan counted {count}: it changed since the data set was opened");
        }
    }

    private IEnumerable<ShardSample> UsableSamples(int epoch, int shardIndex, CancellationToken ct)
    {
        using var samples = set.ReadShard(shardIndex, ct).GetEnumerator();
        while (true)
        {
            try
            {
                if (!samples.MoveNext()) yield break;
            }
            catch (ShardReadException ex) when (shardOptions.Policy == ValidationPolicy.Skip)
            {
                Skip(epoch, ex.ToError()); // the rest of this shard is unreadable; the scan counted the same
                yield break;
            }
            var sample = samples.Current;
            if (!ShardSet.InSplit(sample, shardOptions.Split)) continue;
            if (set.Problem(sample) is { } problem)
            {
                Skip(epoch, problem);
                continue;
            }
            yield return sample;
        }
    }

    private void Skip(int epoch, DatasetError error)
    {
        skipped.AddOrUpdate(epoch, 1, (_, n) => n + 1);
        if (skippedErrors.Count < 1000) skippedErrors.Enqueue(error);
    }

    /// <summary>WebDataset's buffer shuffle: fill, then emit a random slot and refill it; drain randomly at the end.</summary>
    private static IEnumerable<T> Shuffled<T>(IEnumerable<T> items, int size, DeterministicRandom random)
    {
        var buffer = new List<T>(Math.Min(size, 4096));
        foreach (var item in items)
        {
            if (buffer.Count < size)
            {
                buffer.Add(item);
                continue;
            }
            var j = random.Next(size);
            yield return buffer[j];
            buffer[j] = item;
        }
        while (buffer.Count > 0)
        {
            var j = random.Next(buffer.Count);
            yield return buffer[j];
            buffer[j] = buffer[^1];
            buffer.RemoveAt(buffer.Count - 1);
        }
    }

    private sealed record Pending(TaskCompletionSource<float[]> Pixels, string Caption, int Label, string Id);

    protected override IEnumerable<ImageTextBatch> ServeEpoch(int epoch, int startBatch, CancellationToken ct)
    {
        var batchSize = Options.BatchSize;
        var end = Options.DropLast ? BatchesPerEpoch * batchSize : SampleCount;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // As in ImageTextLoader: `pending` keeps serving order and bounds read-ahead; `work` feeds the decode threads.
        var pending = Channel.CreateBounded<Pending>(Options.PrefetchBatches * batchSize);
        var work = Channel.CreateUnbounded<(ShardSample Sample, int Shard, int Position, TaskCompletionSource<float[]> Result)>();
        // Reading shards blocks on I/O for the whole epoch: a thread of its own, so decode workers keep the pool's threads.
        var producer = Task.Factory.StartNew(() => Produce(epoch, startBatch * batchSize, end, pending.Writer, work.Writer, cts.Token),
            cts.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var workers = Enumerable.Range(0, Options.Workers).Select(_ => Task.Run(() => Decode(epoch, work.Reader, cts.Token))).Append(producer).ToArray();
        try
        {
            ServedSample Next(int position)
            {
                if (!pending.Reader.WaitToReadAsync(cts.Token).AsTask().GetAwaiter().GetResult())
                {
                    producer.GetAwaiter().GetResult(); // rethrows the producer's error, if that is why it stopped
                    throw new InvalidOperationException($"epoch {epoch} ended after {position} samples, {end} expected");
                }
                var item = pending.Reader.TryRead(out var next) ? next : throw new InvalidOperationException("pending queue out of step");
                return new ServedSample(item.Pixels.Task.GetAwaiter().GetResult(), item.Caption, item.Label, item.Id);
            }
            foreach (var batch in Assemble(epoch, startBatch, end, processor.Config.Size, Next))
                yield return batch;
        }
        finally
        {
            cts.Cancel();
            try { Task.WaitAll(workers); }
            // Cancellation is how the workers stop; a producer error has reached the consumer already, or was not needed.
            catch (AggregateException ex) when (producer.IsFaulted || ex.InnerExceptions.All(e => e is OperationCanceledException)) { }
        }
    }

    private void Produce(int epoch, int first, int end, ChannelWriter<Pending> pending,
        ChannelWriter<(ShardSample, int, int, TaskCompletionSource<float[]>)> work, CancellationToken ct)
    {
        try
        {
            foreach (var (sample, shard, position) in EpochSamples(epoch, first, ct))
            {
                if (position >= end) break;
                var result = new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously);
                var item = new Pending(result, CaptionFor(epoch, position, sample.Captions), LabelIndex(sample), sample.Shard.Name + "!" + sample.Key);
                if (!pending.TryWrite(item)) pending.WriteAsync(item, ct).AsTask().GetAwaiter().GetResult();
                work.TryWrite((sample, shard, position, result));
            }
        }
        finally
        {
            pending.TryComplete();
            work.TryComplete();
        }
    }

    private string CaptionFor(int epoch, int position, IReadOnlyList<string> captions) => captions.Count == 1
        ? captions[0]
        : captions[new DeterministicRandom(DeterministicRandom.Mix(Options.Seed, epoch, position, CaptionPurpose)).Next(captions.Count)];

    private int LabelIndex(ShardSample sample) =>
        sample.Label is null ? -1
        : classIndex.TryGetValue(sample.Label, out var index) ? index
        : throw new ShardReadException(sample.Shard.Name, sample.ImageMember, DatasetErrorKind.MalformedEntry,
            $"label '{sample.Label}' is not among the declared classes");

    private async Task Decode(int epoch, ChannelReader<(ShardSample Sample, int Shard, int Position, TaskCompletionSource<float[]> Result)> work, CancellationToken ct)
    {
        await foreach (var (sample, shard, position, result) in work.ReadAllAsync(ct))
        {
            // Errors travel to the consumer, which rethrows them at this sample's place in the batch.
            try { result.SetResult(Preprocess(epoch, sample, shard, position)); }
            catch (Exception ex) { result.SetException(ex); }
        }
    }

    private float[] Preprocess(int epoch, ShardSample sample, int shard, int position)
    {
        if (memoryCache?.TryGet((shard, sample.Key)) is { } kept) return kept;
        using var image = ImageLoader.Decode(sample.ImageBytes!, sample.Location, set.Format.ImageLimits ?? ImageLimits.Default);
        if (Options.Augmentation is { } augmentation)
        {
            var random = new DeterministicRandom(DeterministicRandom.Mix(Options.Seed, epoch, position, AugmentPurpose));
            var crop = RandomResizedCrop.Choose(image.Width, image.Height, augmentation.MinScale, augmentation.MaxScale, random);
            return processor.ProcessCropToArray(image, crop, augmentation.HorizontalFlip && random.NextDouble() < 0.5);
        }
        var values = processor.ProcessToArray(image);
        memoryCache?.TryAdd((shard, sample.Key), values);
        return values;
    }
}
