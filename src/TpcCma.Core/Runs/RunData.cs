using TpcCma.Data;
using TpcCma.Data.Shards;

namespace TpcCma.Runs;

/// <summary>
/// The splits a run uses: it trains on the training split and evaluates on the held-out split (the first of
/// test, val, validation, eval), and on every further split beside it (e.g. held-out images of the trained style).
/// </summary>
public sealed record RunData(ImageTextDataset Train, ImageTextDataset HeldOut, string HeldOutName)
{
    /// <summary>Held-out splits besides <see cref="HeldOut"/>, by name.</summary>
    public IReadOnlyList<(string Name, ImageTextDataset Data)> OtherHeldOut { get; init; } = [];

    /// <summary>For a shard data set, the training split the loader streams (<see cref="Train"/> then holds only a bounded head of it).</summary>
    public ShardTraining? Shards { get; init; }

    internal static readonly string[] HeldOutNames = ["test", "val", "validation", "eval"];

    /// <summary>
    /// Opens a registered data set of any format; a shard list or shard descriptor is opened with
    /// <see cref="ShardRunData.Open"/>, its evaluation splits copied into <paramref name="shardWorkDirectory"/>.
    /// </summary>
    public static RunData Open(string location, string trainSplit, ShardSources? sources, string shardWorkDirectory, CancellationToken ct = default) =>
        ShardSet.IsShardSet(location) ? ShardRunData.Open(location, trainSplit, sources, shardWorkDirectory, ct) : Open(location, trainSplit);

    /// <summary>Opens an already-registered dataset: existence checks only, validation happened at registration.</summary>
    public static RunData Open(string location, string trainSplit = "train")
    {
        var dataset = ImageTextDataset.Open(location, new DatasetOptions(Policy: ValidationPolicy.Skip, ImageCheck: ImageCheck.Exists));
        var splits = dataset.SplitNames;
        var heldOut = HeldOutNames.FirstOrDefault(splits.Contains);
        var train = splits.Contains(trainSplit)
            ? dataset.Split(trainSplit)
            : heldOut is null ? dataset : dataset.WithSamples([.. dataset.Samples.Where(s => s.Split != heldOut)]);
        // Without a held-out split the run evaluates on what it trained on, and says so in the report.
        if (heldOut is null) return new RunData(train, train, "train");
        var others = splits.Where(s => s != heldOut && s != trainSplit).Select(s => (s, dataset.Split(s))).ToList();
        return new RunData(train, dataset.Split(heldOut), heldOut) { OtherHeldOut = others };
    }
}
