using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TpcCma.Data.Sources;

/// <summary>
/// Turns an SVG document into PNG bytes of <c>size</c> x <c>size</c> pixels on white. Throws
/// <see cref="InvalidDataException"/> for a document it cannot draw. <paramref name="Id"/> names the renderer and its
/// version: it is part of the render cache's key.
/// </summary>
public sealed record SvgRenderer(string Id, Func<string, int, byte[]> RenderPng);

/// <summary>Settings of the icon import (npm package <c>@iconify/json</c>); docs/DATASETS.md describes each.</summary>
/// <param name="Sets">Only these set prefixes (each must exist and carry an allowed licence); null: every allowed set.</param>
/// <param name="TestSets">The unseen-style sets; null: the rule of <see cref="IconImporter.IsTestFamily"/>.</param>
/// <param name="MinSets">A concept is a class only when at least this many sets draw it.</param>
/// <param name="Classes">At most this many classes (K): the concepts drawn by the most sets.</param>
/// <param name="MaxPerSetConcept">At most this many icons of one concept from one set (its first names in ordinal order).</param>
public sealed record IconImportOptions(
    IReadOnlyList<string>? Sets = null,
    IReadOnlyList<string>? ExcludeSets = null,
    IReadOnlyList<string>? TestSets = null,
    int Size = 48,
    int MinSets = 10,
    int Classes = 100,
    int MaxPerSetConcept = 3,
    double TestFraction = 0.2,
    double ValFraction = 0.1,
    string Version = IconImportOptions.PinnedVersion,
    string? CacheDirectory = null,
    string NpmCommand = "npm",
    int Workers = 0)
{
    public const string Package = "@iconify/json";
    public const string PinnedVersion = "2.2.535";

    public IconImportOptions Validated()
    {
        if (Size is < 8 or > 512) throw new ArgumentException($"size must be between 8 and 512 pixels, got {Size}");
        if (MinSets < 1) throw new ArgumentException($"min-sets must be at least 1, got {MinSets}");
        if (Classes < 2) throw new ArgumentException($"classes must be at least 2, got {Classes}");
        if (MaxPerSetConcept < 1) throw new ArgumentException($"max-per-set-concept must be at least 1, got {MaxPerSetConcept}");
        if (TestFraction is <= 0 or >= 1) throw new ArgumentException($"test fraction must be in (0, 1), got {TestFraction}");
        if (ValFraction is < 0 or >= 1) throw new ArgumentException($"val fraction must be in [0, 1), got {ValFraction}");
        if (Sets is not null && TestSets is not null && TestSets.Except(Sets).FirstOrDefault() is { } stray)
            throw new ArgumentException($"test set '{stray}' is not among the chosen sets");
        if (TestSets is not null && ExcludeSets is not null && TestSets.Intersect(ExcludeSets).FirstOrDefault() is { } both)
            throw new ArgumentException($"set '{both}' is both a test set and excluded");
        return this;
    }

    public string ResolvedCacheDirectory => CacheDirectory ?? NpmPackageCache.DefaultDirectory;
}

/// <summary>An import's outcome: the dataset, how many images were drawn now or taken from the cache, and the icons skipped.</summary>
public sealed record IconImportResult(ImageTextDataset Dataset, int Rendered, int Cached, IReadOnlyList<SkippedIcon> Skipped);

/// <summary>An icon left out of the dataset, and why (its SVG could not be drawn).</summary>
public sealed record SkippedIcon(string Icon, string Reason);

/// <summary>
/// Imports icons of <c>@iconify/json</c> as an image-text dataset: every icon whose concept (<see cref="IconNames.Concept"/>)
/// is one of the K concepts drawn in at least N allowed-licence sets, drawn on white at the asked size; captions from
/// its name and aliases, label = its concept. Splits by set: whole sets (chosen by a hash of their family, or named)
/// are <c>test</c>, unseen styles; of the other sets a hash-chosen share of icons is <c>val</c>, the rest <c>train</c>.
/// Drawn images are cached by the SVG document's hash, so a re-run draws nothing new.
/// </summary>
public static class IconImporter
{
    public static IconImportResult Import(string outDir, IconImportOptions options, SvgRenderer renderer, CancellationToken ct = default)
    {
        options.Validated();
        var archive = NpmPackageCache.Ensure(IconImportOptions.Package, options.Version, options.ResolvedCacheDirectory, options.NpmCommand, ct);
        var all = ReadSets(archive, ct);
        var (sets, excluded) = ChooseSets(all, options);
        var classes = ChooseClasses(sets, options);
        var testSets = TestSets(sets, options);
        var picks = PickIcons(sets, classes, options);

        // Everything is checked before the output folder is touched: a refused import leaves it as it was.
        Directory.CreateDirectory(outDir);
        var renderCache = Path.Combine(options.ResolvedCacheDirectory, "iconify-renders", options.Size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(renderCache);
        var skipped = new ConcurrentBag<SkippedIcon>();
        var (rendered, cached) = (0, 0);
        Parallel.ForEach(picks, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = options.Workers > 0 ? options.Workers : Environment.ProcessorCount }, pick =>
        {
            var document = pick.Glyph.SvgDocument(options.Size);
            var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(renderer.Id + "\n" + document)));
            var cachedPng = Path.Combine(renderCache, key[..2], key + ".png");
            var target = Path.Combine(outDir, pick.Set.Prefix, pick.Glyph.Name + ".png");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (File.Exists(cachedPng))
            {
                File.Copy(cachedPng, target, overwrite: true);
                Interlocked.Increment(ref cached);
                return;
            }
            byte[] png;
            try { png = renderer.RenderPng(document, options.Size); }
            catch (InvalidDataException ex)
            {
                skipped.Add(new SkippedIcon($"{pick.Set.Prefix}:{pick.Glyph.Name}", ex.Message));
                return;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(cachedPng)!);
            var temporary = cachedPng + "." + Environment.CurrentManagedThreadId + ".tmp";
            File.WriteAllBytes(temporary, png);
            File.Move(temporary, cachedPng, overwrite: true);
            File.WriteAllBytes(target, png);
            Interlocked.Increment(ref rendered);
        });
        var skippedIcons = skipped.OrderBy(s => s.Icon, StringComparer.Ordinal).ToList();
        var left = skippedIcons.Select(s => s.Icon).ToHashSet(StringComparer.Ordinal);
        var lines = new List<string>();
        foreach (var pick in picks)
        {
            if (left.Contains($"{pick.Set.Prefix}:{pick.Glyph.Name}")) continue;
            var id = $"{pick.Set.Prefix}/{pick.Glyph.Name}";
            var split = testSets.Contains(pick.Set.Prefix) ? "test" : DatasetSplits.HashFraction(id) < options.ValFraction ? "val" : "train";
            lines.Add(JsonSerializer.Serialize(new { id, image = id + ".png", captions = pick.Set.Captions(pick.Glyph.Name), label = pick.Concept, split }));
        }
        if (lines.Count == 0) throw new InvalidOperationException($"no icon of the selection could be drawn ({skippedIcons.Count} skipped; first: {skippedIcons.FirstOrDefault()?.Reason})");
        File.WriteAllLines(Path.Combine(outDir, "manifest.jsonl"), lines);
        string packageSha256;
        using (var package = File.OpenRead(archive)) packageSha256 = Convert.ToHexStringLower(SHA256.HashData(package));
        File.WriteAllText(Path.Combine(outDir, DatasetReader.SidecarName), JsonSerializer.Serialize(new
        {
            source = "iconify",
            package = IconImportOptions.Package,
            version = options.Version,
            package_sha256 = packageSha256,
            renderer = renderer.Id,
            size = options.Size,
            min_sets = options.MinSets,
            max_per_set_concept = options.MaxPerSetConcept,
            split_rule = options.TestSets is null
                ? $"test: sets whose family (prefix up to its first '-') has sha256 fraction < {options.TestFraction}; val: train-set icons whose id 'prefix/name' has sha256 fraction < {options.ValFraction}"
                : $"test: the named sets; val: train-set icons whose id 'prefix/name' has sha256 fraction < {options.ValFraction}",
            test_sets = testSets.Order(StringComparer.Ordinal),
            sets = sets.Select(s => new
            {
                prefix = s.Prefix, name = s.Name, licence = s.LicenceSpdx, licence_title = s.LicenceTitle, author = s.Author,
                icons = s.Icons.Count, selected = picks.Count(p => p.Set == s), split = testSets.Contains(s.Prefix) ? "test" : "train",
            }),
            excluded_sets = excluded.Select(e => new { prefix = e.Prefix, licence = e.Licence, reason = e.Reason }),
            skipped = skippedIcons.Select(s => new { icon = s.Icon, reason = s.Reason }),
            classes,
            templates = Templates,
        }, new JsonSerializerOptions { WriteIndented = true }));
        return new IconImportResult(ImageTextDataset.Open(outDir), rendered, cached, skippedIcons);
    }

    /// <summary>Zero-shot prompts of the icon data: a class name is a concept such as <c>arrow left</c>.</summary>
    public static IReadOnlyList<string> Templates { get; } = ["an icon of {}.", "{}"];

    /// <summary>
    /// The default test rule: a set is an unseen style when the SHA-256 fraction of its family (the prefix up to its
    /// first dash, so <c>mdi</c> and <c>mdi-light</c> fall on the same side) is below <paramref name="fraction"/>.
    /// </summary>
    public static bool IsTestFamily(string prefix, double fraction) => DatasetSplits.HashFraction(Family(prefix)) < fraction;

    public static string Family(string prefix) => prefix.Split('-')[0];

    private sealed record Pick(IconSet Set, IconGlyph Glyph, string Concept);

    private sealed record ExcludedSet(string Prefix, string? Licence, string Reason);

    private static List<IconSet> ReadSets(string archive, CancellationToken ct) =>
        [.. NpmPackageCache.ReadEntries(archive, name => name.StartsWith("package/json/", StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal), ct)
            .Select(e => IconSet.Parse(e.Bytes, $"{Path.GetFileName(archive)}!{e.Name}"))
            .OrderBy(s => s.Prefix, StringComparer.Ordinal)];

    private static (List<IconSet> Sets, List<ExcludedSet> Excluded) ChooseSets(List<IconSet> all, IconImportOptions options)
    {
        var byPrefix = all.ToDictionary(s => s.Prefix, StringComparer.Ordinal);
        foreach (var named in (options.Sets ?? []).Concat(options.ExcludeSets ?? []).Concat(options.TestSets ?? []))
            if (!byPrefix.ContainsKey(named))
                throw new InvalidOperationException($"icon set '{named}' is not in {IconImportOptions.Package} {options.Version}");
        var allowList = string.Join(", ", IconLicences.Allowed);
        foreach (var named in options.Sets ?? [])
            if (!IconLicences.IsAllowed(byPrefix[named].LicenceSpdx))
                throw new InvalidOperationException($"icon set '{named}' has licence '{byPrefix[named].LicenceSpdx ?? "(none)"}', which is not on the allow-list ({allowList})");
        var excludedByName = (options.ExcludeSets ?? []).ToHashSet(StringComparer.Ordinal);
        var candidates = options.Sets is null ? all : [.. options.Sets.Distinct(StringComparer.Ordinal).Select(p => byPrefix[p]).OrderBy(s => s.Prefix, StringComparer.Ordinal)];
        var excluded = new List<ExcludedSet>();
        var sets = new List<IconSet>();
        foreach (var set in candidates)
        {
            if (excludedByName.Contains(set.Prefix)) excluded.Add(new ExcludedSet(set.Prefix, set.LicenceSpdx, "excluded by --exclude-sets"));
            else if (!IconLicences.IsAllowed(set.LicenceSpdx)) excluded.Add(new ExcludedSet(set.Prefix, set.LicenceSpdx, set.LicenceSpdx is null ? "no licence" : "licence not on the allow-list"));
            else sets.Add(set);
        }
        if (sets.Count == 0) throw new InvalidOperationException($"the selection holds no icon set with an allowed licence ({allowList}); {excluded.Count} excluded");
        return (sets, excluded);
    }

    /// <summary>The K concepts drawn by the most sets (at least N), ties in ordinal order.</summary>
    private static List<string> ChooseClasses(List<IconSet> sets, IconImportOptions options)
    {
        var setsPerConcept = sets
            .SelectMany(s => s.Icons.Select(i => IconNames.Concept(i.Name)).OfType<string>().Distinct(StringComparer.Ordinal))
            .GroupBy(c => c, StringComparer.Ordinal)
            .Select(g => (Concept: g.Key, Sets: g.Count()))
            .Where(c => c.Sets >= options.MinSets)
            .OrderByDescending(c => c.Sets).ThenBy(c => c.Concept, StringComparer.Ordinal)
            .Take(options.Classes)
            .Select(c => c.Concept)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (setsPerConcept.Count < 2)
            throw new InvalidOperationException($"the selection is empty: {setsPerConcept.Count} concept(s) are drawn in at least {options.MinSets} of the {sets.Count} sets (lower --min-sets or choose more sets)");
        return setsPerConcept;
    }

    private static HashSet<string> TestSets(List<IconSet> sets, IconImportOptions options)
    {
        var test = options.TestSets is { } named
            ? named.ToHashSet(StringComparer.Ordinal)
            : sets.Where(s => IsTestFamily(s.Prefix, options.TestFraction)).Select(s => s.Prefix).ToHashSet(StringComparer.Ordinal);
        if (test.FirstOrDefault(t => !sets.Any(s => s.Prefix == t)) is { } missing)
            throw new InvalidOperationException($"test set '{missing}' is not among the imported sets (excluded, or its licence is not allowed)");
        if (!sets.Any(s => test.Contains(s.Prefix))) throw new InvalidOperationException($"the split rule leaves no test set among the {sets.Count} chosen sets: name some with --test-sets");
        if (sets.All(s => test.Contains(s.Prefix))) throw new InvalidOperationException($"the split rule makes every one of the {sets.Count} chosen sets a test set: none is left to train on");
        return test;
    }

    private static List<Pick> PickIcons(List<IconSet> sets, List<string> classes, IconImportOptions options)
    {
        var wanted = classes.ToHashSet(StringComparer.Ordinal);
        return [.. sets.SelectMany(set => set.Icons
            .Select(glyph => new Pick(set, glyph, IconNames.Concept(glyph.Name) ?? ""))
            .Where(p => wanted.Contains(p.Concept))
            .GroupBy(p => p.Concept, StringComparer.Ordinal)
            .SelectMany(g => g.OrderBy(p => p.Glyph.Name, StringComparer.Ordinal).Take(options.MaxPerSetConcept)))
            .OrderBy(p => p.Set.Prefix, StringComparer.Ordinal).ThenBy(p => p.Glyph.Name, StringComparer.Ordinal)];
    }
}
