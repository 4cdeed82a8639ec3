using static TorchSharp.torch;

namespace TpcCma.Data;

/// <summary>
/// Light training augmentation, deterministic from (seed, epoch, sample): a random resized crop covering
/// <c>MinScale..MaxScale</c> of the image area with aspect ratio in 3/4..4/3 (torchvision's RandomResizedCrop), and an
/// optional horizontal flip, off by default because captions may say left or right.
/// </summary>
public sealed record Augmentation(double MinScale = 0.8, double MaxScale = 1.0, bool HorizontalFlip = false)
{
    public Augmentation Validated() =>
        MinScale is > 0 and <= 1 && MaxScale is > 0 and <= 1 && MinScale <= MaxScale
            ? this
            : throw new ArgumentException($"augmentation scale range must satisfy 0 < min <= max <= 1, got {MinScale}..{MaxScale}");
}

/// <summary>How the loader batches, orders and caches.</summary>
/// <param name="Workers">Decode threads.</param>
/// <param name="PrefetchBatches">Batches decoded ahead of the consumer (bounds memory).</param>
/// <param name="CacheDirectory">When set, preprocessed images are kept there as float32 files (not with augmentation).</param>
/// <param name="CacheInMemory">Keep preprocessed images in memory after first use (3*S*S*4 bytes each), up to <paramref name="MemoryCacheBytes"/>.</param>
/// <param name="MemoryCacheBytes">The in-memory cache's budget: images past it are decoded every epoch, so memory stays flat on any data set size.</param>
public sealed record LoaderOptions(
    int BatchSize,
    int Seed = 0,
    bool Shuffle = true,
    bool DropLast = false,
    int Workers = 2,
    int PrefetchBatches = 2,
    string? CacheDirectory = null,
    bool CacheInMemory = false,
    Augmentation? Augmentation = null,
    long MemoryCacheBytes = LoaderOptions.DefaultMemoryCacheBytes)
{
    public const long DefaultMemoryCacheBytes = 2L << 30;

    public LoaderOptions Validated()
    {
        if (BatchSize <= 0) throw new ArgumentException($"batch size must be positive, got {BatchSize}");
        if (Workers <= 0) throw new ArgumentException($"workers must be positive, got {Workers}");
        if (MemoryCacheBytes < 0) throw new ArgumentException($"memory cache budget must be >= 0 bytes, got {MemoryCacheBytes}");
        if (PrefetchBatches <= 0) throw new ArgumentException($"prefetch must be positive, got {PrefetchBatches}");
        if (Augmentation is not null && (CacheDirectory is not null || CacheInMemory))
            throw new ArgumentException("augmentation draws a new crop every epoch, so it cannot be combined with a preprocessed-image cache");
        Augmentation?.Validated();
        return this;
    }
}

/// <summary>Where a loader is in the data stream: epoch and batch within it (what a checkpoint saves to resume).</summary>
public readonly record struct LoaderPosition(int Epoch, int Batch);

/// <summary>One batch: pixels [B, 3, S, S] float32, one caption per image, label indices (-1 if none), sample ids.</summary>
public sealed record ImageTextBatch(Tensor Pixels, IReadOnlyList<string> Captions, int[] Labels, string[] Ids) : IDisposable
{
    /// <summary>Where this batch sits in the stream; the position after it is <c>Position with Batch + 1</c> (or the next epoch).</summary>
    public LoaderPosition Position { get; init; }

    public void Dispose() => Pixels.Dispose();
}
