namespace TpcCma.Data;

/// <summary>One image with its captions, an optional class label and an optional split name.</summary>
/// <param name="ImagePath">Absolute path of the image file, inside the dataset root.</param>
public sealed record DatasetSample(string Id, string ImagePath, IReadOnlyList<string> Captions, string? Label, string? Split);

/// <summary>How opening a dataset went: entries read, samples kept, problems found (the first few listed).</summary>
public sealed record DatasetReport(int Entries, int Kept, int Skipped, int ErrorCount, IReadOnlyList<DatasetError> Errors);

/// <summary>
/// An image-text dataset: samples, the class names labels index into, and the zero-shot prompt templates
/// (<c>{}</c> stands for the class name).
/// </summary>
public sealed class ImageTextDataset
{
    /// <summary>The templates used when a dataset names none (METHOD.md, zero-shot accuracy).</summary>
    public static IReadOnlyList<string> DefaultPromptTemplates { get; } = ["a photo of a {}.", "{}"];

    private readonly Dictionary<string, int> classIndex;

    public string Root { get; }
    public IReadOnlyList<DatasetSample> Samples { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public IReadOnlyList<string> PromptTemplates { get; }
    public DatasetReport Report { get; }

    public ImageTextDataset(string root, IReadOnlyList<DatasetSample> samples, IReadOnlyList<string>? classNames = null,
        IReadOnlyList<string>? promptTemplates = null, DatasetReport? report = null)
    {
        Root = root;
        Samples = samples;
        // Without declared classes, the distinct labels in ordinal order: stable across runs and platforms.
        ClassNames = classNames ?? [.. samples.Select(s => s.Label).OfType<string>().Distinct().Order(StringComparer.Ordinal)];
        PromptTemplates = promptTemplates is { Count: > 0 } ? promptTemplates : DefaultPromptTemplates;
        if (PromptTemplates.FirstOrDefault(t => !t.Contains("{}", StringComparison.Ordinal)) is { } bad)
            throw new ArgumentException($"prompt template '{bad}' has no '{{}}' placeholder for the class name");
        classIndex = ClassNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        if (samples.FirstOrDefault(s => s.Label is not null && !classIndex.ContainsKey(s.Label)) is { } unknown)
            throw new ArgumentException($"sample '{unknown.Id}' has label '{unknown.Label}', which is not among the class names");
        Report = report ?? new DatasetReport(samples.Count, samples.Count, 0, 0, []);
    }

    /// <summary>Opens a dataset folder, manifest (.jsonl, .csv, COCO .json) or archive (.tar, .tar.gz, .tgz, .zip).</summary>
    public static ImageTextDataset Open(string path, DatasetOptions? options = null) => DatasetReader.Open(path, options ?? DatasetOptions.Default);

    /// <summary>The index of the sample's label in <see cref="ClassNames"/>, or -1 when it has none.</summary>
    public int LabelIndex(DatasetSample sample) => sample.Label is null ? -1 : classIndex[sample.Label];

    /// <summary>The split names present, in ordinal order.</summary>
    public IReadOnlyList<string> SplitNames => [.. Samples.Select(s => s.Split).OfType<string>().Distinct().Order(StringComparer.Ordinal)];

    /// <summary>The samples of one split; class names and templates are kept so label indices stay comparable.</summary>
    public ImageTextDataset Split(string name)
    {
        var kept = Samples.Where(s => s.Split == name).ToList();
        return kept.Count > 0
            ? new ImageTextDataset(Root, kept, ClassNames, PromptTemplates)
            : throw new ArgumentException($"split '{name}' has no samples (splits: {string.Join(", ", SplitNames)})");
    }

    /// <summary>A copy with samples and splits replaced (for example by <see cref="DatasetSplits"/>).</summary>
    public ImageTextDataset WithSamples(IReadOnlyList<DatasetSample> samples) => new(Root, samples, ClassNames, PromptTemplates, Report);

    /// <summary>The zero-shot prompts for one class name, one per template.</summary>
    public IReadOnlyList<string> Prompts(string className) => [.. PromptTemplates.Select(t => t.Replace("{}", className, StringComparison.Ordinal))];
}
