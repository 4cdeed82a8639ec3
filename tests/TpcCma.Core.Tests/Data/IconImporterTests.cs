using System.Text.Json;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Cli.Rendering;
using TpcCma.Data;
using TpcCma.Data.Sources;

namespace TpcCma.Core.Tests.Data;

public class IconImporterTests
{
    private static IconImportResult Import(TempDataset work, IconImportOptions? options = null, string outDir = "out", bool withBadSvg = false)
    {
        var cache = work.PathOf("cache");
        if (!File.Exists(Path.Combine(cache, NpmPackageCache.ArchiveName(IconImportOptions.Package, IconImportOptions.PinnedVersion))))
            IconFixture.WritePackage(cache, withBadSvg);
        return IconImporter.Import(work.PathOf(outDir), options ?? IconFixture.Options(cache), SkiaSvgRenderer.Renderer);
    }

    private static JsonElement Sidecar(TempDataset work, string outDir = "out") =>
        JsonDocument.Parse(File.ReadAllText(work.PathOf($"{outDir}/dataset.json"))).RootElement;

    [Fact]
    public void Import_ClassesAreConceptsDrawnInEnoughSets_CaptionsFromNamesAndPlainAliases()
    {
        using var work = new TempDataset();
        var dataset = Import(work).Dataset;

        Assert.Equal(["arrow left", "cat", "heart", "home"], dataset.ClassNames);
        var home = dataset.Samples.Single(s => s.Id == "alpha/home");
        Assert.Equal("home", home.Label);
        Assert.Equal(["home", "house"], home.Captions);
        // The flipped alias (arrow-right-bold) draws something else: not a caption of arrow-left-bold.
        Assert.Equal(["arrow left bold"], dataset.Samples.Single(s => s.Id == "alpha/arrow-left-bold").Captions);
        Assert.Equal("home", dataset.Samples.Single(s => s.Id == "alpha/home-outline").Label);
        Assert.Equal("heart", dataset.Samples.Single(s => s.Id == "beta-icons/heart-3").Label);

        var fewer = IconImporter.Import(work.PathOf("strict"), IconFixture.Options(work.PathOf("cache")) with { MinSets = 4 }, SkiaSvgRenderer.Renderer).Dataset;
        Assert.Equal(["heart", "home"], fewer.ClassNames);
        var one = IconImporter.Import(work.PathOf("one-each"), IconFixture.Options(work.PathOf("cache")) with { MaxPerSetConcept = 1 }, SkiaSvgRenderer.Renderer).Dataset;
        Assert.Equal(["alpha/home"], one.Samples.Where(s => s.Id.StartsWith("alpha/", StringComparison.Ordinal) && s.Label == "home").Select(s => s.Id));
    }

    [Fact]
    public void Import_LeavesOutSetsWithoutAnAllowedLicence_AndRecordsEachSetsLicence()
    {
        using var work = new TempDataset();
        var dataset = Import(work).Dataset;

        Assert.DoesNotContain(dataset.Samples, s => s.Id.StartsWith("copyleft/", StringComparison.Ordinal) || s.Id.StartsWith("unlicensed/", StringComparison.Ordinal));
        var sidecar = Sidecar(work);
        var sets = sidecar.GetProperty("sets").EnumerateArray().ToDictionary(s => s.GetProperty("prefix").GetString()!);
        Assert.Equal(["alpha", "beta-icons", "delta", "gamma"], sets.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Apache-2.0", sets["beta-icons"].GetProperty("licence").GetString());
        Assert.Equal("beta-icons author", sets["beta-icons"].GetProperty("author").GetString());
        Assert.Equal(5, sets["beta-icons"].GetProperty("icons").GetInt32());
        var excluded = sidecar.GetProperty("excluded_sets").EnumerateArray().ToDictionary(s => s.GetProperty("prefix").GetString()!, s => s.GetProperty("reason").GetString());
        Assert.Equal("licence not on the allow-list", excluded["copyleft"]);
        Assert.Equal("no licence", excluded["unlicensed"]);
    }

    [Theory]
    [InlineData("copyleft", "GPL-3.0")]
    [InlineData("unlicensed", "(none)")]
    public void Import_NamedSetWithoutAllowedLicence_IsANamedErrorAndWritesNothing(string set, string licence)
    {
        using var work = new TempDataset();
        var options = IconFixture.Options(work.PathOf("cache")) with { Sets = ["alpha", set], TestSets = null };
        var ex = Assert.Throws<InvalidOperationException>(() => Import(work, options));
        Assert.Contains($"'{set}'", ex.Message);
        Assert.Contains($"'{licence}'", ex.Message);
        Assert.False(Directory.Exists(work.PathOf("out")));
    }

    [Fact]
    public void Import_EmptySelection_IsANamedErrorAndLeavesAnExistingFolderAlone()
    {
        using var work = new TempDataset();
        var keep = work.Png("out/keep.png");
        var options = IconFixture.Options(work.PathOf("cache")) with { MinSets = 9 };
        var ex = Assert.Throws<InvalidOperationException>(() => Import(work, options));
        Assert.Contains("at least 9", ex.Message);
        Assert.Equal(["keep.png"], Directory.GetFileSystemEntries(work.PathOf("out")).Select(Path.GetFileName));

        var unknown = Assert.Throws<InvalidOperationException>(() => Import(work, IconFixture.Options(work.PathOf("cache")) with { Sets = ["alpha", "nosuch"], TestSets = null }));
        Assert.Contains("'nosuch'", unknown.Message);
    }

    [Fact]
    public void Import_TestIsWholeNamedSets_ValIsAHashShareOfTheOthers()
    {
        using var work = new TempDataset();
        var options = IconFixture.Options(work.PathOf("cache")) with { ValFraction = 0.5 };
        var dataset = Import(work, options).Dataset;

        Assert.All(dataset.Samples, s => Assert.Equal(
            s.Id.StartsWith("delta/", StringComparison.Ordinal) ? "test" : DatasetSplits.HashFraction(s.Id) < 0.5 ? "val" : "train", s.Split));
        Assert.Contains(dataset.Samples, s => s.Split == "val");
        Assert.Contains(dataset.Samples, s => s.Split == "train");
        Assert.Equal(["delta"], Sidecar(work).GetProperty("test_sets").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Import_DefaultSplitRule_HashesSetFamilies_AndIsReproducible()
    {
        using var work = new TempDataset();
        // A fraction between the families' hash positions that makes exactly the lowest family the test side.
        var families = new[] { "alpha", "beta", "gamma", "delta" }.OrderBy(DatasetSplits.HashFraction).ToList();
        var fraction = (DatasetSplits.HashFraction(families[0]) + DatasetSplits.HashFraction(families[1])) / 2;
        var options = IconFixture.Options(work.PathOf("cache")) with { TestSets = null, TestFraction = fraction };
        var first = Import(work, options, "a").Dataset;
        Import(work, options, "b");

        var testPrefixes = first.Split("test").Samples.Select(s => s.Id.Split('/')[0]).Distinct().ToList();
        Assert.Equal([families[0] == "beta" ? "beta-icons" : families[0]], testPrefixes);
        Assert.All(first.Samples, s => Assert.Equal(IconImporter.IsTestFamily(s.Id.Split('/')[0], fraction), s.Split == "test"));
        Assert.Equal(File.ReadAllBytes(work.PathOf("a/manifest.jsonl")), File.ReadAllBytes(work.PathOf("b/manifest.jsonl")));
    }

    [Fact]
    public void Import_SecondRunWithTheSameOptions_DrawsNothingNew()
    {
        using var work = new TempDataset();
        var first = Import(work, outDir: "a");
        var second = Import(work, outDir: "b");

        Assert.True(first.Rendered > 0);
        Assert.Equal(0, second.Rendered);
        Assert.Equal(first.Dataset.Samples.Count, second.Cached);
        Assert.Equal(File.ReadAllBytes(work.PathOf("a/alpha/heart.png")), File.ReadAllBytes(work.PathOf("b/alpha/heart.png")));
        using var heart = ImageLoader.Load(work.PathOf("b/alpha/heart.png"));
        Assert.Equal((24, 24), (heart.Width, heart.Height));
        Assert.Equal(new Rgb24(255, 0, 0), heart[12, 12]);   // the multi-colour set keeps its red
    }

    [Fact]
    public void Import_AnSvgThatFailsToDraw_IsSkippedByNameAndTheRestKept()
    {
        using var work = new TempDataset();
        var result = Import(work, withBadSvg: true);

        var skipped = Assert.Single(result.Skipped);
        Assert.Equal("alpha:cat", skipped.Icon);
        Assert.DoesNotContain(result.Dataset.Samples, s => s.Id == "alpha/cat");
        Assert.Contains(result.Dataset.Samples, s => s.Id == "gamma/cat");
        Assert.Equal("alpha:cat", Sidecar(work).GetProperty("skipped")[0].GetProperty("icon").GetString());
    }
}
