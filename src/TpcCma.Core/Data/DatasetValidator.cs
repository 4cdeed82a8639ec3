namespace TpcCma.Data;

/// <summary>
/// Turns manifest entries into samples, checking each one (ids, captions, paths, images) and collecting every
/// problem with its location; then applies the policy: throw with all problems, or skip the bad samples.
/// </summary>
internal static class DatasetValidator
{
    public static ImageTextDataset Build(string root, ManifestContent content, DatasetOptions options, IEnumerable<DatasetError> earlierErrors)
    {
        var entries = content.Entries;
        var entryErrors = new List<DatasetError>[entries.Count];
        var paths = new string?[entries.Count];
        var classes = content.ClassNames?.ToHashSet(StringComparer.Ordinal);
        var firstById = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var errors = entryErrors[i] = [];
            if (!firstById.TryAdd(entry.Id, entry.Location))
                errors.Add(new(entry.Location, DatasetErrorKind.DuplicateId, $"id '{entry.Id}' is also used at {firstById[entry.Id]}"));
            CheckCaptions(entry, options.MaxCaptionChars, errors);
            if (entry.Label is not null && classes is not null && !classes.Contains(entry.Label))
                errors.Add(new(entry.Location, DatasetErrorKind.MalformedEntry, $"label '{entry.Label}' is not among the declared classes"));
            paths[i] = DatasetPaths.Resolve(root, entry.ImageBase, entry.Image, out var pathError);
            if (pathError is not null) errors.Add(new(entry.Location, DatasetErrorKind.PathEscapesRoot, pathError));
        }
        // Image checks read files: run them in parallel, each writing only its own slot, so the order stays stable.
        Parallel.For(0, entries.Count, i =>
        {
            if (paths[i] is { } path && CheckImage(path, entries[i], options) is { } error) entryErrors[i].Add(error);
        });

        var allErrors = earlierErrors.Concat(content.Errors).Concat(entryErrors.SelectMany(e => e)).ToList();
        if (options.Policy == ValidationPolicy.Fail && allErrors.Count > 0) throw new DatasetValidationException(allErrors);
        var samples = new List<DatasetSample>();
        for (var i = 0; i < entries.Count; i++)
        {
            if (entryErrors[i].Count > 0) continue;
            var e = entries[i];
            samples.Add(new DatasetSample(e.Id, paths[i]!, e.Captions, e.Label, e.Split));
        }
        var entryCount = entries.Count + content.Errors.Count(e => e.Kind == DatasetErrorKind.MalformedEntry);
        var report = new DatasetReport(entryCount, samples.Count, entryCount - samples.Count, allErrors.Count, [.. allErrors.Take(options.MaxReportedErrors)]);
        // Declared classes stay as declared; otherwise derive them from the samples kept.
        return new ImageTextDataset(root, samples, content.ClassNames, content.PromptTemplates, report);
    }

    private static void CheckCaptions(ManifestEntry entry, int maxChars, List<DatasetError> errors)
    {
        if (entry.Captions.Count == 0) errors.Add(new(entry.Location, DatasetErrorKind.EmptyCaption, "no caption"));
        for (var c = 0; c < entry.Captions.Count; c++)
        {
            var caption = entry.Captions[c];
            if (string.IsNullOrWhiteSpace(caption))
                errors.Add(new(entry.Location, DatasetErrorKind.EmptyCaption, $"caption {c + 1} is empty"));
            else if (caption.Length > maxChars)
                errors.Add(new(entry.Location, DatasetErrorKind.CaptionTooLong, $"caption {c + 1} has {caption.Length} characters, over the limit of {maxChars}"));
        }
    }

    private static DatasetError? CheckImage(string path, ManifestEntry entry, DatasetOptions options)
    {
        var limits = options.ImageLimits ?? ImageLimits.Default;
        try
        {
            switch (options.ImageCheck)
            {
                case ImageCheck.Exists:
                    if (!File.Exists(path)) throw new ImageLoadException(path, DatasetErrorKind.MissingFile, "file not found");
                    break;
                case ImageCheck.Header: ImageLoader.CheckHeader(path, limits); break;
                case ImageCheck.Decode: ImageLoader.Inspect(path, limits); break;
            }
            return null;
        }
        catch (ImageLoadException ex)
        {
            return new DatasetError(entry.Location, ex.Kind, $"{ex.Reason} ({entry.Image})");
        }
    }
}
