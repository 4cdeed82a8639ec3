namespace TpcCma.Data;

/// <summary>
/// A loader the trainer can draw from: batches at any <see cref="LoaderPosition"/>, the same at every start
/// (an <see cref="ImageTextLoader"/> over files, a <see cref="Shards.ShardedLoader"/> over WebDataset shards; what they
/// share, positions and batch assembly, is <see cref="EpochBatchLoader"/>).
/// </summary>
public interface IBatchLoader
{
    LoaderOptions Options { get; }

    /// <summary>Batches in one epoch.</summary>
    int BatchesPerEpoch { get; }

    /// <summary>The position after <paramref name="position"/>.</summary>
    LoaderPosition After(LoaderPosition position);

    /// <summary>Batches from <paramref name="from"/> on, epoch after epoch, until the caller stops enumerating.</summary>
    IEnumerable<ImageTextBatch> Read(LoaderPosition from, CancellationToken ct = default);
}
