using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Data;
using TpcCma.Data.Sources;

namespace TpcCma.Core.Tests.Data;

public class EmojiImporterTests
{
    private static readonly object[] Emoji =
    [
        new { name = "GRINNING FACE", image = "1f600.png", short_name = "grinning", short_names = new[] { "grinning" }, category = "Smileys & Emotion", subcategory = "face-smiling", has_img_twitter = true, has_img_google = true },
        new { name = "DOG FACE", image = "1f436.png", short_name = "dog", short_names = new[] { "dog", "dog_face" }, category = "Animals & Nature", subcategory = "animal-mammal", has_img_twitter = true, has_img_google = true },
        new { name = "CAT FACE", image = "1f431.png", short_name = "cat", short_names = new[] { "cat" }, category = "Animals & Nature", subcategory = "animal-mammal", has_img_twitter = true, has_img_google = false },
    ];

    /// <summary>Writes a package archive laid out as emoji-datasource-STYLE's: emoji.json and img/STYLE/64/*.png.</summary>
    private static void WritePackage(string cache, string style)
    {
        Directory.CreateDirectory(cache);
        using var gz = new GZipStream(File.Create(Path.Combine(cache, $"emoji-datasource-{style}-16.0.0.tgz")), CompressionLevel.Fastest);
        using var tar = new TarWriter(gz);
        void Add(string name, byte[] bytes) => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) });
        Add("package/emoji.json", JsonSerializer.SerializeToUtf8Bytes(Emoji));
        foreach (var (image, i) in new[] { "1f600.png", "1f436.png", "1f431.png" }.Select((n, i) => (n, i)))
        {
            using var png = new Image<Rgba32>(64, 64, new Rgba32(0, 0, 0, 0)); // transparent black background
            for (var y = 16; y < 48; y++) for (var x = 16; x < 48; x++) png[x, y] = new Rgba32((byte)(80 * i), 200, style == "google" ? (byte)250 : (byte)10, 255);
            using var buffer = new MemoryStream();
            png.SaveAsPng(buffer);
            Add($"package/img/{style}/64/{image}", buffer.ToArray());
        }
        Add($"package/img/{style}/sheets/64.png", [1, 2, 3]); // present in the real packages, not wanted
    }

    [Fact]
    public void Import_HoldOutFraction_KeepsHashChosenEmojiOfTheTrainingStyleApart()
    {
        using var work = new TempDataset();
        var cache = work.PathOf("cache");
        WritePackage(cache, "twitter");
        WritePackage(cache, "google");
        var options = new EmojiImportOptions(CacheDirectory: cache, NpmCommand: "/nonexistent/npm", HoldOutFraction: 0.6);
        var dataset = EmojiImporter.Import(work.PathOf("out"), options);

        var twitter = dataset.Samples.Where(s => s.Id.StartsWith("twitter/", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, twitter.Count);
        Assert.All(twitter, s => Assert.Equal(DatasetSplits.HashFraction(Path.GetFileName(s.Id)) < 0.6 ? "val" : "train", s.Split));
        Assert.All(dataset.Samples.Where(s => s.Id.StartsWith("google/", StringComparison.Ordinal)), s => Assert.Equal("test", s.Split));
    }

    [Fact]
    public void Import_BuildsStyleSplitWithCaptionsAndSubcategoryLabels()
    {
        using var work = new TempDataset();
        var cache = work.PathOf("cache");
        WritePackage(cache, "twitter");
        WritePackage(cache, "google");
        var options = new EmojiImportOptions(CacheDirectory: cache, NpmCommand: "/nonexistent/npm", HoldOutFraction: 0);
        var dataset = EmojiImporter.Import(work.PathOf("out"), options);

        Assert.Equal(["twitter/1f431.png", "twitter/1f436.png", "twitter/1f600.png"], dataset.Split("train").Samples.Select(s => s.Id));
        Assert.Equal(["google/1f436.png", "google/1f600.png"], dataset.Split("test").Samples.Select(s => s.Id));
        var dog = dataset.Samples.First(s => s.Id == "twitter/1f436.png");
        Assert.Equal(["dog face", "dog"], dog.Captions);
        Assert.Equal("animal mammal", dog.Label);
        Assert.Equal(["animal mammal", "face smiling"], dataset.ClassNames);
        // Transparent pixels became white; the opaque glyph kept its colour.
        using var image = ImageLoader.Load(dog.ImagePath);
        Assert.Equal(new Rgb24(255, 255, 255), image[2, 2]);
        Assert.Equal(new Rgb24(80, 200, 10), image[30, 30]);
    }

    [Fact]
    public void Import_IsReproducible_AndCategoryLabelsAreOptional()
    {
        using var work = new TempDataset();
        var cache = work.PathOf("cache");
        WritePackage(cache, "twitter");
        WritePackage(cache, "google");
        var options = new EmojiImportOptions(Labels: EmojiLabel.Category, CacheDirectory: cache, NpmCommand: "/nonexistent/npm");
        var first = EmojiImporter.Import(work.PathOf("a"), options);
        EmojiImporter.Import(work.PathOf("b"), options);
        Assert.Equal(File.ReadAllBytes(work.PathOf("a/manifest.jsonl")), File.ReadAllBytes(work.PathOf("b/manifest.jsonl")));
        Assert.Equal(File.ReadAllBytes(work.PathOf("a/google/1f600.png")), File.ReadAllBytes(work.PathOf("b/google/1f600.png")));
        Assert.Equal(["Animals & Nature", "Smileys & Emotion"], first.ClassNames);
    }

    [Fact]
    public void EnsurePackage_WithoutNpm_SaysWhatToDo()
    {
        using var work = new TempDataset();
        var options = new EmojiImportOptions(CacheDirectory: work.PathOf("cache"), NpmCommand: "/nonexistent/npm");
        var ex = Assert.Throws<InvalidOperationException>(() => EmojiImporter.EnsurePackage("twitter", options));
        Assert.Contains("emoji-datasource-twitter@16.0.0", ex.Message);
        Assert.Contains("/nonexistent/npm", ex.Message);
        Assert.Contains(work.PathOf("cache"), ex.Message);
    }

    [Theory]
    [InlineData("twitter", "twitter")]
    [InlineData("twitter", "msn")]
    public void Options_RejectSameOrUnknownStyles(string train, string eval) =>
        Assert.Throws<ArgumentException>(() => new EmojiImportOptions(train, eval).Validated());
}
