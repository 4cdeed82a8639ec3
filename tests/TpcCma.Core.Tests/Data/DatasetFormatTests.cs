using System.Formats.Tar;
using System.IO.Compression;
using TpcCma.Data;

namespace TpcCma.Core.Tests.Data;

public class DatasetFormatTests
{
    [Fact]
    public void Open_Jsonl_ReadsCaptionsLabelsSplitsAndSidecarClasses()
    {
        using var ds = new TempDataset();
        ds.Png("a.png");
        ds.Png("b.png", seed: 1);
        ds.Manifest(
            new { image = "a.png", captions = new[] { "a red square", "red box" }, label = "square", split = "train" },
            new { id = "second", image = "b.png", caption = "a circle", label = "circle" });
        File.WriteAllText(ds.PathOf("dataset.json"), """{"classes":["square","circle","star"],"templates":["art of a {}"]}""");
        var dataset = ImageTextDataset.Open(ds.Root);
        Assert.Equal(["square", "circle", "star"], dataset.ClassNames);
        Assert.Equal(["art of a {}"], dataset.PromptTemplates);
        Assert.Equal(["art of a star"], dataset.Prompts("star"));
        var (a, b) = (dataset.Samples[0], dataset.Samples[1]);
        Assert.Equal(("a.png", ds.PathOf("a.png"), "train"), (a.Id, a.ImagePath, a.Split));
        Assert.Equal(["a red square", "red box"], a.Captions);
        Assert.Equal(("second", (string?)null, 1), (b.Id, b.Split, dataset.LabelIndex(b)));
    }

    [Fact]
    public void Open_WithoutSidecar_UsesOrdinalLabelsAndDefaultTemplates()
    {
        using var ds = new TempDataset();
        ds.Png("a.png");
        ds.Png("b.png");
        ds.Manifest(new { image = "a.png", caption = "x", label = "zebra" }, new { image = "b.png", caption = "y", label = "Ant" });
        var dataset = ImageTextDataset.Open(ds.PathOf("manifest.jsonl"));
        Assert.Equal(["Ant", "zebra"], dataset.ClassNames);
        Assert.Equal(["a photo of a {}.", "{}"], dataset.PromptTemplates);
    }

    [Fact]
    public void Open_Csv_HandlesQuotesAndGroupsCaptionsPerImage()
    {
        using var ds = new TempDataset();
        ds.Png("img/a.png");
        ds.Png("img/b.png", seed: 2);
        File.WriteAllText(ds.PathOf("captions.csv"),
            "image,caption,label\n" +
            "img/a.png,\"a cat, sitting\",cat\r\n" +
            "img/b.png,\"she said \"\"hi\"\"\nthen left\",dog\n" +
            "img/a.png,a second caption,cat\n");
        var dataset = ImageTextDataset.Open(ds.Root);
        Assert.Equal(2, dataset.Samples.Count);
        Assert.Equal(["a cat, sitting", "a second caption"], dataset.Samples[0].Captions);
        Assert.Equal(["she said \"hi\"\nthen left"], dataset.Samples[1].Captions);
        Assert.Equal(["cat", "dog"], dataset.ClassNames);
    }

    [Fact]
    public void Open_Csv_ReportsBadRows_WithTheirStartingLine()
    {
        using var ds = new TempDataset();
        ds.Png("a.png");
        File.WriteAllText(ds.PathOf("d.csv"), "image,caption\n\"a.png\",\"multi\nline\"\na.png,x,extra\n,empty image\nb.png,\"open");
        var ex = Assert.Throws<DatasetValidationException>(() => ImageTextDataset.Open(ds.Root));
        Assert.Equal(["d.csv:4", "d.csv:5", "d.csv:6"], ex.Errors.Select(e => e.Location));
        Assert.All(ex.Errors, e => Assert.Equal(DatasetErrorKind.MalformedEntry, e.Kind));
    }

    [Fact]
    public void Open_CocoCaptions_GroupsAnnotationsAndUsesImageFolder()
    {
        using var ds = new TempDataset();
        ds.Png("images/000001.png");
        ds.Png("images/000002.png", seed: 3);
        File.WriteAllText(ds.PathOf("captions_val.json"), """
            {"images":[{"id":1,"file_name":"000001.png"},{"id":2,"file_name":"000002.png"}],
             "annotations":[{"id":10,"image_id":1,"caption":"first"},{"id":11,"image_id":2,"caption":"second"},{"id":12,"image_id":1,"caption":"again"},
                            {"id":13,"image_id":9,"caption":"orphan"}]}
            """);
        var options = new DatasetOptions(ValidationPolicy.Skip, ImageFolder: ds.PathOf("images"));
        var dataset = ImageTextDataset.Open(ds.PathOf("captions_val.json"), options);
        Assert.Equal(["1", "2"], dataset.Samples.Select(s => s.Id));
        Assert.Equal(["first", "again"], dataset.Samples[0].Captions);
        var error = Assert.Single(dataset.Report.Errors);
        Assert.Equal(("captions_val.json:annotations[3]", DatasetErrorKind.MalformedEntry), (error.Location, error.Kind));
    }

    [Theory]
    [InlineData("data.zip")]
    [InlineData("data.tar.gz")]
    [InlineData("data.tar")]
    public void Open_Archive_ExtractsAndReadsTheManifestInsideATopFolder(string name)
    {
        using var source = new TempDataset();
        source.Png("set/img/a.png");
        File.WriteAllText(source.PathOf("set/manifest.jsonl"), """{"image":"img/a.png","captions":["inside"]}""" + "\n");
        using var work = new TempDataset();
        var archive = work.PathOf(name);
        if (name.EndsWith(".zip")) ZipFile.CreateFromDirectory(source.Root, archive);
        else
        {
            using var file = File.Create(archive);
            using Stream stream = name.EndsWith(".gz") ? new GZipStream(file, CompressionLevel.Fastest) : file;
            TarFile.CreateFromDirectory(source.Root, stream, includeBaseDirectory: false);
        }
        var dataset = ImageTextDataset.Open(archive, new DatasetOptions(ExtractionRoot: work.PathOf("extract")));
        var sample = Assert.Single(dataset.Samples);
        Assert.Equal(["inside"], sample.Captions);
        Assert.StartsWith(work.PathOf("extract"), sample.ImagePath);
        Assert.True(File.Exists(sample.ImagePath));
    }

    [Fact]
    public void Open_MissingPath_ThrowsNamingIt()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => ImageTextDataset.Open("/no/such/dataset"));
        Assert.Contains("/no/such/dataset", ex.Message);
    }

    [Fact]
    public void Split_ReturnsOnlyThatSplit_KeepingClassIndices()
    {
        using var ds = new TempDataset();
        ds.Png("a.png");
        ds.Png("b.png");
        ds.Manifest(new { image = "a.png", caption = "x", label = "b", split = "train" }, new { image = "b.png", caption = "y", label = "a", split = "test" });
        var dataset = ImageTextDataset.Open(ds.Root);
        var test = dataset.Split("test");
        Assert.Equal(["b.png"], test.Samples.Select(s => s.Id));
        Assert.Equal(["a", "b"], test.ClassNames);
        Assert.Throws<ArgumentException>(() => dataset.Split("val"));
    }
}
