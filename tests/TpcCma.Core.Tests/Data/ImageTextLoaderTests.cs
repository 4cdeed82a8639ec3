using static TpcCma.Core.Tests.Data.BatchSnapshots;

namespace TpcCma.Core.Tests.Data;

public sealed class ImageTextLoaderTests : IDisposable
{
    private readonly TempDataset files = new();
    private readonly ImageTextDataset dataset;
    private readonly ClipImageProcessor processor = new(ImageProcessorConfig.Clip(8));

    public ImageTextLoaderTests()
    {
        var lines = new List<object>();
        for (var i = 0; i < 10; i++)
        {
            files.Png($"{i}.png", 12, 10, seed: i);
            lines.Add(new { image = $"{i}.png", captions = new[] { $"first {i}", $"second {i}", $"third {i}" }, label = i % 2 == 0 ? "even" : "odd" });
        }
        files.Manifest([.. lines]);
        dataset = ImageTextDataset.Open(files.Root);
    }

    public void Dispose() => files.Dispose();

    private ImageTextLoader Loader(int seed = 7, int batch = 3, string? cache = null, bool memory = false, Augmentation? augment = null, int workers = 2) =>
        new(dataset, processor, new LoaderOptions(batch, seed, Workers: workers, CacheDirectory: cache, CacheInMemory: memory, Augmentation: augment));

    [Fact]
    public void ReadEpoch_SameSeed_GivesSameBatches()
    {
        var a = Loader().ReadEpoch(0).Select(Snapshot).ToList();
        var b = Loader(workers: 1).ReadEpoch(0).Select(Snapshot).ToList();
        AssertSame(a, b);
        Assert.Equal(4, a.Count); // 10 samples in batches of 3: 3, 3, 3, 1
        Assert.Equal(10, a.SelectMany(x => x.Ids.Split(',')).Distinct().Count());
    }

    [Fact]
    public void ReadEpoch_DifferentSeedsOrEpochs_GiveDifferentOrders()
    {
        var seed7 = Loader(seed: 7).EpochOrder(0);
        Assert.NotEqual(seed7, Loader(seed: 8).EpochOrder(0));
        Assert.NotEqual(seed7, Loader(seed: 7).EpochOrder(1));
        Assert.Equal(Enumerable.Range(0, 10), seed7.Order());
    }

    [Fact]
    public void Read_ResumedMidEpoch_ContinuesExactlyAsUninterrupted()
    {
        var uninterrupted = Loader().Read(new LoaderPosition(0, 0)).Take(9).Select(Snapshot).ToList(); // into epoch 2
        var resumed = Loader().Read(new LoaderPosition(1, 2)).Take(3).Select(Snapshot).ToList();
        AssertSame(uninterrupted[6..], resumed);
    }

    [Fact]
    public void Read_ReportsPositions_AndAfterWrapsToTheNextEpoch()
    {
        var loader = Loader();
        var positions = loader.Read(new LoaderPosition(0, 2)).Take(4).Select(b => { using (b) return b.Position; }).ToList();
        Assert.Equal([new(0, 2), new(0, 3), new(1, 0), new(1, 1)], positions);
        Assert.Equal(new LoaderPosition(1, 0), loader.After(new LoaderPosition(0, 3)));
    }

    [Fact]
    public void ReadEpoch_BadPosition_IsRefusedWhereAsked_AndDropLastNeedsABatch()
    {
        var loader = Loader();   // 4 batches per epoch
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.ReadEpoch(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.ReadEpoch(0, startBatch: 5));
        Assert.Empty(loader.ReadEpoch(0, startBatch: 4));   // the end of an epoch is a valid place to start
        var error = Assert.Throws<ArgumentException>(() => new ImageTextLoader(dataset, processor, new LoaderOptions(11, 7, DropLast: true)));
        Assert.Contains("leaves no batch from 10 samples", error.Message);
    }

    [Fact]
    public void ReadEpoch_PixelsLabelsAndIds_MatchTheProcessorAndDataset()
    {
        var loader = new ImageTextLoader(dataset, processor, new LoaderOptions(4, Shuffle: false));
        using var batch = loader.ReadEpoch(0).First();
        Assert.Equal(new long[] { 4, 3, 8, 8 }, batch.Pixels.shape);
        Assert.Equal(["0.png", "1.png", "2.png", "3.png"], batch.Ids);
        Assert.Equal([0, 1, 0, 1], batch.Labels); // classes in ordinal order: even, odd
        using var image = TpcCma.Data.ImageLoader.Load(dataset.Samples[2].ImagePath);
        using var expected = processor.Process(image);
        using var third = batch.Pixels[2];
        Assert.Equal(expected.data<float>().ToArray(), third.data<float>().ToArray());
        Assert.Contains(batch.Captions[2], dataset.Samples[2].Captions);
    }

    [Fact]
    public void CaptionFor_IsDeterministic_AndVariesOverEpochs()
    {
        var a = Loader();
        var b = Loader();
        var chosen = Enumerable.Range(0, 20).Select(epoch => a.CaptionFor(epoch, 3)).ToList();
        Assert.Equal(chosen, Enumerable.Range(0, 20).Select(epoch => b.CaptionFor(epoch, 3)));
        Assert.Equal(3, chosen.Distinct().Count());
    }

    [Fact]
    public void DiskCache_GivesIdenticalTensors_AndIsReadOnLaterPasses()
    {
        var cacheDir = files.PathOf("cache");
        var plain = Loader().ReadEpoch(0).Select(Snapshot).ToList();
        var firstPass = Loader(cache: cacheDir).ReadEpoch(0).Select(Snapshot).ToList();
        var cacheFiles = Directory.GetFiles(cacheDir, "*.f32", SearchOption.AllDirectories);
        Assert.Equal(10, cacheFiles.Length);
        var secondPass = Loader(cache: cacheDir).ReadEpoch(0).Select(Snapshot).ToList();
        AssertSame(plain, firstPass);
        AssertSame(plain, secondPass);
        // Overwrite every entry with zeros: a pass that reads the cache (and not the images) sees only zeros.
        foreach (var f in cacheFiles) File.WriteAllBytes(f, new byte[new FileInfo(f).Length]);
        Assert.All(Loader(cache: cacheDir).ReadEpoch(0).Select(Snapshot), b => Assert.All(b.Pixels, v => Assert.Equal(0f, v)));
    }

    [Fact]
    public void MemoryCache_GivesIdenticalTensorsAcrossEpochs_WithoutRereadingImages()
    {
        var loader = Loader(memory: true);
        var first = loader.ReadEpoch(0).Select(Snapshot).ToList();
        foreach (var s in dataset.Samples) File.Move(s.ImagePath, s.ImagePath + ".moved");
        try
        {
            AssertSame(first, loader.ReadEpoch(0).Select(Snapshot).ToList());
            Assert.Equal(10, loader.ReadEpoch(1).Sum(b => { using (b) return b.Ids.Length; }));
        }
        finally { foreach (var s in dataset.Samples) File.Move(s.ImagePath + ".moved", s.ImagePath); }
    }

    [Fact]
    public void Augmentation_IsDeterministicFromSeed_AndChangesWithEpoch()
    {
        var augment = new Augmentation(0.3, 0.6, HorizontalFlip: true);
        var loader = new ImageTextLoader(dataset, processor, new LoaderOptions(10, 3, Shuffle: false, Augmentation: augment));
        var again = new ImageTextLoader(dataset, processor, new LoaderOptions(10, 3, Shuffle: false, Augmentation: augment));
        var plain = new ImageTextLoader(dataset, processor, new LoaderOptions(10, 3, Shuffle: false));
        var epoch0 = Snapshot(loader.ReadEpoch(0).Single());
        AssertSame([epoch0], [Snapshot(again.ReadEpoch(0).Single())]);
        Assert.NotEqual(epoch0.Pixels, Snapshot(loader.ReadEpoch(1).Single()).Pixels);
        Assert.NotEqual(epoch0.Pixels, Snapshot(plain.ReadEpoch(0).Single()).Pixels);
    }

    [Fact]
    public void ReadEpoch_DecodeFailure_SurfacesWithTheFileName()
    {
        File.WriteAllText(dataset.Samples[4].ImagePath, "corrupted after validation");
        var loader = new ImageTextLoader(dataset, processor, new LoaderOptions(5, Shuffle: false));
        var ex = Assert.Throws<ImageLoadException>(() => loader.ReadEpoch(0).Select(Snapshot).ToList());
        Assert.Contains("4.png", ex.Message);
    }

    [Fact]
    public void Options_RejectCacheWithAugmentation_AndEmptyDropLast()
    {
        Assert.Throws<ArgumentException>(() => Loader(memory: true, augment: new Augmentation()));
        Assert.Throws<ArgumentException>(() => new ImageTextLoader(dataset, processor, new LoaderOptions(11, DropLast: true)));
    }

    [Fact]
    public void ReadEpoch_StoppedEarly_LeavesNoLiveTensors()
    {
        var loader = Loader(batch: 2);
        using var scope = NewDisposeScope();
        foreach (var batch in loader.ReadEpoch(0).Take(2)) batch.Dispose();
        Assert.Equal(0, scope.DisposablesCount);
    }
}
