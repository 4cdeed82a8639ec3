using TpcCma.Data;

namespace TpcCma.Cli.Commands;

/// <summary>Options shared by the <c>datasets</c> commands, parsed and checked in one place.</summary>
internal static class DatasetArgs
{
    public static string Path(CliArgs args) => args.Positionals switch
    {
        [var only] => only,
        [] => throw new CliUsageException("missing dataset PATH"),
        _ => throw new CliUsageException($"expected one dataset PATH, got {args.Positionals.Count}: {string.Join(" ", args.Positionals)}"),
    };

    public static DatasetOptions Options(CliArgs args, ImageCheck check)
    {
        var policy = args.Optional("policy") switch
        {
            null or "fail" => ValidationPolicy.Fail,
            "skip" => ValidationPolicy.Skip,
            var other => throw new CliUsageException($"--policy must be 'fail' or 'skip', got '{other}'"),
        };
        var maxPixels = args.Int("max-pixels", (int)Math.Min(int.MaxValue, ImageLimits.Default.MaxPixels));
        var maxCaption = args.Int("max-caption-chars", DatasetOptions.Default.MaxCaptionChars);
        if (maxPixels <= 0) throw new CliUsageException($"--max-pixels must be positive, got {maxPixels}");
        if (maxCaption <= 0) throw new CliUsageException($"--max-caption-chars must be positive, got {maxCaption}");
        return new DatasetOptions(policy, check, ImageLimits.Default with { MaxPixels = maxPixels }, MaxCaptionChars: maxCaption,
            ImageFolder: args.Optional("image-folder"));
    }

    public static void RejectUnknown(CliArgs args)
    {
        if (args.Unread().FirstOrDefault() is { } unknown) throw new CliUsageException($"unknown option --{unknown}");
    }
}
