using System.CommandLine;
using TpcCma.Cli.CommandLine;
using TpcCma.Data;

namespace TpcCma.Cli.Commands;

/// <summary>Options shared by the <c>datasets</c> commands, declared and read in one place.</summary>
internal static class DatasetArgs
{
    public static readonly Argument<string> Path = new("PATH") { Description = "The data set: a folder, a manifest, an archive or WebDataset shards" };
    public static readonly Option<string> Policy = CliOptions.Choice("--policy", "fail: refuse a data set with problems; skip: leave those samples out", ["fail", "skip"]);
    public static readonly Option<string> ImageFolder = CliOptions.Text("--image-folder", "DIR", "Where the manifest's relative image paths point (default: beside the manifest)");
    public static readonly Option<int> MaxPixels = CliOptions.Int("--max-pixels", "N", "Largest image (width x height) accepted",
        (int)Math.Min(int.MaxValue, ImageLimits.Default.MaxPixels), min: 1);
    public static readonly Option<int> MaxCaptionChars = CliOptions.Int("--max-caption-chars", "N", "Longest caption accepted", DatasetOptions.Default.MaxCaptionChars, min: 1);
    /// <summary><c>--caption-field NAME</c>: captions from that field of <c>KEY.json</c> rather than <c>KEY.txt</c> (shards).</summary>
    public static readonly Option<string> CaptionField = CliOptions.Text("--caption-field", "NAME", "Shards: read captions from this field of KEY.json instead of KEY.txt");

    /// <summary>The options <see cref="Options"/> reads.</summary>
    public static IReadOnlyList<Symbol> Loading { get; } = [Policy, ImageFolder, MaxPixels, MaxCaptionChars];

    public static DatasetOptions Options(ParseResult args, ImageCheck check)
    {
        var policy = args.GetValue(Policy) == "skip" ? ValidationPolicy.Skip : ValidationPolicy.Fail;
        return new DatasetOptions(policy, check, ImageLimits.Default with { MaxPixels = args.GetValue(MaxPixels) },
            MaxCaptionChars: args.GetValue(MaxCaptionChars), ImageFolder: args.GetValue(ImageFolder));
    }
}
