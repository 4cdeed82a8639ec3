using System.Formats.Tar;
using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Data;

namespace TpcCma.Core.Tests.Data;

public class DatasetValidationTests
{
    private static DatasetError SingleError(TempDataset ds, DatasetOptions? options = null, string? path = null)
    {
        var ex = Assert.Throws<DatasetValidationException>(() => ImageTextDataset.Open(path ?? ds.Root, options));
        return Assert.Single(ex.Errors);
    }

    private static void AssertError(DatasetError error, DatasetErrorKind kind, string location)
    {
        Assert.Equal(kind, error.Kind);
        Assert.Equal(location, error.Location);
    }

    [Fact]
    public void Open_ReportsMalformedEntry_WithLineNumber()
    {
        using var ds = new TempDataset();
        ds.Png("a.png");
        ds.Manifest(TempDataset.Line("a.png", "a cat"), "{not json", "", """{"captions":["no image"]}""");
        var ex = Assert.Throws<DatasetValidationException>(() => ImageTextDataset.Open(ds.Root));
        Assert.Collection(ex.Errors,
            e => AssertError(e, DatasetErrorKind.MalformedEntry, "manifest.jsonl:2"),
            e => AssertError(e, DatasetErrorKind.MalformedEntry, "manifest.jsonl:4"));
    }

    [Fact]
    public void Open_ReportsMissingFile()
    {
        using var ds = new TempDataset();
        ds.Manifest(TempDataset.Line("gone.png", "a dog"));
        var error = SingleError(ds);
        AssertError(error, DatasetErrorKind.MissingFile, "manifest.jsonl:1");
        Assert.Contains("gone.png", error.Message);
    }

    [Fact]
    public void Open_ReportsUndecodableImage()
    {
        using var ds = new TempDataset();
        ds.Bytes("text.png", "hello, not an image"u8.ToArray());
        ds.Manifest(TempDataset.Line("text.png", "words"));
        AssertError(SingleError(ds), DatasetErrorKind.UndecodableImage, "manifest.jsonl:1");
    }

    [Fact]
    public void Open_ReportsTruncatedImage()
    {
        using var ds = new TempDataset();
        var bytes = File.ReadAllBytes(ds.Png("full.png", 32, 32));
        ds.Bytes("cut.png", bytes[..(bytes.Length / 2)]);
        ds.Manifest(TempDataset.Line("full.png", "whole"), TempDataset.Line("cut.png", "half"));
        AssertError(SingleError(ds), DatasetErrorKind.TruncatedImage, "manifest.jsonl:2");
    }

    [Fact]
    public void Open_ReportsUnsupportedFormat_ForTiff()
    {
        using var ds = new TempDataset();
        using (var image = new Image<Rgb24>(4, 4)) image.SaveAsTiff(ds.PathOf("a.tiff"));
        ds.Manifest(TempDataset.Line("a.tiff", "a tiff"));
        var error = SingleError(ds);
        AssertError(error, DatasetErrorKind.UnsupportedFormat, "manifest.jsonl:1");
        Assert.Contains("TIFF", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Open_ReportsZeroDimension_ForBmpWithZeroWidth()
    {
        using var ds = new TempDataset();
        var bytes = File.ReadAllBytes(WriteBmp(ds, "ok.bmp"));
        BitConverter.GetBytes(0).CopyTo(bytes, 18); // BITMAPINFOHEADER width
        ds.Bytes("zero.bmp", bytes);
        ds.Manifest(TempDataset.Line("zero.bmp", "nothing"));
        AssertError(SingleError(ds), DatasetErrorKind.ZeroDimension, "manifest.jsonl:1");
    }

    private static string WriteBmp(TempDataset ds, string name)
    {
        using var image = new Image<Rgb24>(4, 4);
        image.SaveAsBmp(ds.PathOf(name));
        return ds.PathOf(name);
    }

    [Fact]
    public void Open_ReportsImageTooLarge_BeforeDecoding()
    {
        using var ds = new TempDataset();
        ds.Png("big.png", 20, 20);
        ds.Manifest(TempDataset.Line("big.png", "big"));
        var error = SingleError(ds, new DatasetOptions(ImageLimits: new ImageLimits(MaxPixels: 100)));
        AssertError(error, DatasetErrorKind.ImageTooLarge, "manifest.jsonl:1");
        Assert.Contains("20x20", error.Message);
    }

    [Fact]
    public void Open_ReportsEmptyCaption_AndMissingCaptions()
    {
        using var ds = new TempDataset();
        ds.Png("a.png");
        ds.Png("b.png");
        ds.Manifest(TempDataset.Line("a.png", "fine", "   "), new { image = "b.png" });
        var ex = Assert.Throws<DatasetValidationException>(() => ImageTextDataset.Open(ds.Root));
        Assert.Collection(ex.Errors,
            e => AssertError(e, DatasetErrorKind.EmptyCaption, "manifest.jsonl:1"),
            e => AssertError(e, DatasetErrorKind.EmptyCaption, "manifest.jsonl:2"));
    }

    [Fact]
    public void Open_ReportsCaptionTooLong()
    {
        using var ds = new TempDataset();
        ds.Png("a.png");
        ds.Manifest(TempDataset.Line("a.png", new string('x', 21)));
        AssertError(SingleError(ds, new DatasetOptions(MaxCaptionChars: 20)), DatasetErrorKind.CaptionTooLong, "manifest.jsonl:1");
    }

    [Fact]
    public void Open_ReportsDuplicateId_AtTheSecondOccurrence()
    {
        using var ds = new TempDataset();
        ds.Png("a.png");
        ds.Manifest(TempDataset.Line("a.png", "one"), TempDataset.Line("a.png", "two"));
        var error = SingleError(ds);
        AssertError(error, DatasetErrorKind.DuplicateId, "manifest.jsonl:2");
        Assert.Contains("manifest.jsonl:1", error.Message);
    }

    [Theory]
    [InlineData("../outside.png")]
    [InlineData("sub/../../outside.png")]
    [InlineData("/etc/passwd")]
    public void Open_ReportsPathEscapingRoot(string image)
    {
        using var ds = new TempDataset();
        ds.Manifest(TempDataset.Line(image, "escape"));
        AssertError(SingleError(ds), DatasetErrorKind.PathEscapesRoot, "manifest.jsonl:1");
    }

    [Fact]
    public void Open_ReportsSymlinkPointingOutsideRoot_ButAcceptsOneInside()
    {
        using var outside = new TempDataset();
        outside.Png("secret.png");
        using var ds = new TempDataset();
        ds.Png("real.png");
        File.CreateSymbolicLink(ds.PathOf("inside.png"), ds.PathOf("real.png"));
        Directory.CreateSymbolicLink(ds.PathOf("linkdir"), outside.Root);
        ds.Manifest(TempDataset.Line("inside.png", "ok"), TempDataset.Line("linkdir/secret.png", "leak"));
        AssertError(SingleError(ds), DatasetErrorKind.PathEscapesRoot, "manifest.jsonl:2");
    }

    [Fact]
    public void Open_ReportsArchiveEntriesEscapingTheExtractionFolder_AndLinkEntries()
    {
        using var ds = new TempDataset();
        var tar = ds.PathOf("data.tar");
        using (var writer = new TarWriter(File.Create(tar)))
        {
            AddFile(writer, "manifest.jsonl", """{"image":"a.png","captions":["a"]}""" + "\n");
            AddFile(writer, "a.png", File.ReadAllBytes(ds.Png("src.png")));
            AddFile(writer, "../evil.txt", "x"u8.ToArray());
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "link.png") { LinkName = "/etc/passwd" });
        }
        var options = new DatasetOptions(ExtractionRoot: ds.PathOf("extracted"));
        var ex = Assert.Throws<DatasetValidationException>(() => ImageTextDataset.Open(tar, options));
        Assert.Collection(ex.Errors,
            e => AssertError(e, DatasetErrorKind.ArchiveEntryEscapes, "data.tar!../evil.txt"),
            e => AssertError(e, DatasetErrorKind.ArchiveEntryEscapes, "data.tar!link.png"));
        Assert.False(File.Exists(ds.PathOf("evil.txt")));
        // Skipping keeps the good sample and still reports both entries.
        var skipped = ImageTextDataset.Open(tar, options with { Policy = ValidationPolicy.Skip });
        Assert.Single(skipped.Samples);
        Assert.Equal(2, skipped.Report.ErrorCount);
    }

    [Fact]
    public void Open_StopsArchiveBomb_ByTotalBytes()
    {
        using var ds = new TempDataset();
        var zip = ds.PathOf("bomb.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            using var stream = archive.CreateEntry("zeros.bin", CompressionLevel.Optimal).Open();
            stream.Write(new byte[1 << 20]); // 1 MiB of zeros compresses to ~1 KiB
        }
        Assert.True(new FileInfo(zip).Length < 10_000);
        var options = new DatasetOptions(ArchiveLimits: new ArchiveLimits(MaxTotalBytes: 100_000), ExtractionRoot: ds.PathOf("x"));
        AssertError(SingleError(ds, options, zip), DatasetErrorKind.ArchiveTooLarge, "bomb.zip");
    }

    [Fact]
    public void Open_StopsArchiveBomb_ByEntryCount_EvenUnderSkip()
    {
        using var ds = new TempDataset();
        var tgz = ds.PathOf("many.tar.gz");
        using (var gz = new GZipStream(File.Create(tgz), CompressionLevel.Fastest))
        using (var writer = new TarWriter(gz))
            for (var i = 0; i < 20; i++) AddFile(writer, $"f{i}.txt", [1]);
        var options = new DatasetOptions(ValidationPolicy.Skip, ArchiveLimits: new ArchiveLimits(MaxEntries: 10), ExtractionRoot: ds.PathOf("x"));
        AssertError(SingleError(ds, options, tgz), DatasetErrorKind.ArchiveTooLarge, "many.tar.gz!f10.txt");
    }

    [Fact]
    public void Open_FailPolicy_ListsEveryErrorInOneException()
    {
        using var ds = new TempDataset();
        ds.Png("good.png");
        ds.Manifest(TempDataset.Line("good.png", "good"), TempDataset.Line("missing.png", "x"), TempDataset.Line("good.png", ""), "[]");
        var ex = Assert.Throws<DatasetValidationException>(() => ImageTextDataset.Open(ds.Root));
        Assert.Equal(
            [DatasetErrorKind.MalformedEntry, DatasetErrorKind.MissingFile, DatasetErrorKind.DuplicateId, DatasetErrorKind.EmptyCaption],
            ex.Errors.Select(e => e.Kind));
        Assert.Contains("manifest.jsonl:2: file not found (missing.png)", ex.Message);
    }

    [Fact]
    public void Open_SkipPolicy_KeepsEveryGoodSample_AndReportsTheRest()
    {
        using var ds = new TempDataset();
        var lines = new List<object>();
        for (var i = 0; i < 6; i++)
        {
            ds.Png($"img/{i}.png", seed: i);
            lines.Add(TempDataset.Line($"img/{i}.png", $"caption {i}"));
        }
        lines.Insert(2, TempDataset.Line("img/missing.png", "gone"));
        lines.Insert(4, TempDataset.Line("../x.png", "escape"));
        ds.Manifest([.. lines]);
        var dataset = ImageTextDataset.Open(ds.Root, new DatasetOptions(ValidationPolicy.Skip, MaxReportedErrors: 1));
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"img/{i}.png"), dataset.Samples.Select(s => s.Id));
        Assert.Equal((8, 6, 2, 2), (dataset.Report.Entries, dataset.Report.Kept, dataset.Report.Skipped, dataset.Report.ErrorCount));
        AssertError(Assert.Single(dataset.Report.Errors), DatasetErrorKind.MissingFile, "manifest.jsonl:3");
    }

    private static void AddFile(TarWriter writer, string name, string text) => AddFile(writer, name, System.Text.Encoding.UTF8.GetBytes(text));

    private static void AddFile(TarWriter writer, string name, byte[] bytes) =>
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) });
}
