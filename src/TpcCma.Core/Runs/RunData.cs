using TpcCma.Data;

namespace TpcCma.Runs;

/// <summary>
/// The splits a run uses: it trains on the training split and evaluates on the held-out split (the first of
/// test, val, validation, eval), and on every further split beside it (e.g. held-out images of the trained style).
/// </summary>
public sealed record RunData(ImageTextDataset Train, ImageTextDataset HeldOut, string HeldOutName)
{
    /// <summary>Held-out splits besides <see cref="HeldOut"/>, by name.</summary>
    public IReadOnlyList<(string Name, ImageTextDataset Data)> OtherHeldOut { get; init; } = [];

    private static readonly string[] HeldOutNames = ["test", "val", "validation", "eval"];

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
