using TpcCma.Data;

namespace TpcCma.Runs;

/// <summary>The splits a run uses: it trains on <c>train</c> and evaluates on the held-out split.</summary>
public sealed record RunData(ImageTextDataset Train, ImageTextDataset HeldOut, string HeldOutName)
{
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
        return heldOut is null ? new RunData(train, train, "train") : new RunData(train, dataset.Split(heldOut), heldOut);
    }
}
