using static TpcCma.Core.Tests.Data.BatchSnapshots;

namespace TpcCma.Core.Tests.Data.Shards;

public sealed class ShardedLoaderTests : IDisposable
{
    private readonly TempShards files = new();
    private readonly ClipImageProcessor processor = new(ImageProcessorConfig.Clip(8));
    private readonly ShardSet set;

    public ShardedLoaderTests()
    {
        files.WriteSamples(23, shardSize: 5); // 5 shards: 5, 5, 5, 5, 3 samples
        set = ShardSet.Open(files.Root);
    }

    public void Dispose() => files.Dispose();

    private ShardedLoader Loader(int seed = 7, int batch = 4, int buffer = 3, bool dropLast = true, int workers = 2, ShardSet? shards = null,
        ValidationPolicy policy = ValidationPolicy.Fail, bool memory = false, long budget = LoaderOptions.DefaultMemoryCacheBytes) =>
        new(shards ?? set, processor, new LoaderOptions(batch, seed, DropLast: dropLast, Workers: workers, CacheInMemory: memory, MemoryCacheBytes: budget),
            new ShardLoaderOptions(buffer, Policy: policy));

    [Fact]
    public void ReadEpoch_ServesEveryUsableSampleOnce_WithLabelsAndPixels()
    {
        var loader = Loader(dropLast: false);
        var batches = loader.ReadEpoch(0).Select(Snapshot).ToList();
        Assert.Equal(6, batches.Count); // 23 in batches of 4: five of 4, one of 3
        var ids = batches.SelectMany(b => b.Ids.Split(',')).ToList();
        Assert.Equal(23, ids.Distinct().Count());
        Assert.Equal(["even", "odd"], loader.ClassNames);
        var first = ids[0];
        var index = int.Parse(first[(first.IndexOf("!s", StringComparison.Ordinal) + 2)..]);
        Assert.Equal(index % 2, int.Parse(batches[0].Labels.Split(',')[0]));
        Assert.Contains($" {index}", batches[0].Captions.Split('|')[0]);
    }

    [Fact]
    public void ReadEpoch_BadPosition_IsRefusedWhereAsked_AndPositionsWrapAtTheEpochEnd()
    {
        var loader = Loader();   // 23 samples, drop-last batches of 4: 5 per epoch
        Assert.Equal(5, loader.BatchesPerEpoch);
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.ReadEpoch(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.ReadEpoch(0, startBatch: 6));
        Assert.Equal(new LoaderPosition(1, 0), loader.After(new LoaderPosition(0, 4)));
        Assert.Equal(new LoaderPosition(0, 4), loader.After(new LoaderPosition(0, 3)));
        var error = Assert.Throws<ArgumentException>(() => Loader(batch: 24));
        Assert.Contains("leaves no batch from 23 samples", error.Message);
    }

    [Fact]
    public void ReadEpoch_SameSeed_SameBatches_WhateverTheWorkerCount()
    {
        AssertSame(Loader().ReadEpoch(0).Select(Snapshot).ToList(), Loader(workers: 1).ReadEpoch(0).Select(Snapshot).ToList());
    }

    [Fact]
    public void Order_DependsOnSeedAndEpoch_ShardsAndWithinShards()
    {
        var loader = Loader(dropLast: false);
        Assert.NotEqual(loader.ShardOrder(0), loader.ShardOrder(1));
        Assert.NotEqual(loader.ShardOrder(0), Loader(seed: 8).ShardOrder(0));
        var epoch0 = loader.ReadEpoch(0).Select(Snapshot).Select(b => b.Ids).ToList();
        var epoch1 = loader.ReadEpoch(1).Select(Snapshot).Select(b => b.Ids).ToList();
        Assert.NotEqual(epoch0, epoch1);
        // Within a shard the buffer reorders: the stored order is not what is served.
        var unshuffled = Loader(buffer: 1, dropLast: false).ReadEpoch(0).SelectMany(b => Snapshot(b).Ids.Split(',')).ToList();
        Assert.NotEqual(epoch0.SelectMany(b => b.Split(',')), unshuffled);
        Assert.Equal(unshuffled.Order(), epoch0.SelectMany(b => b.Split(',')).Order());
    }

    [Fact]
    public void Read_ResumedMidEpoch_ContinuesExactlyAsUninterrupted()
    {
        // 23 samples, batch 4, drop-last: 5 batches per epoch. Resume at epoch 1 batch 2 (mid-shard under the buffer).
        var uninterrupted = Loader().Read(new LoaderPosition(0, 0)).Take(12).Select(Snapshot).ToList();
        var resumed = Loader().Read(new LoaderPosition(1, 2)).Take(5).Select(Snapshot).ToList();
        AssertSame(uninterrupted[7..12], resumed);
    }

    [Fact]
    public void Read_ResumedThroughTheTrainerSource_SeesTheSameBatches()
    {
        var loader = Loader();
        var positions = loader.Read(new LoaderPosition(0, 3)).Take(4).Select(b => { using (b) return b.Position; }).ToList();
        Assert.Equal([new(0, 3), new(0, 4), new(1, 0), new(1, 1)], positions);
    }

    [Fact]
    public void Skip_BadSamples_AreLeftOutAndCountedPerEpoch()
    {
        files.Tar("extra-00000.tar", ("bad1.png", TempShards.Png(100)), ("good1.png", TempShards.Png(101)), ("good1.txt", TempShards.Text("fine")),
            ("bad2.png", [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]), ("bad2.txt", TempShards.Text("broken image")));
        var shards = ShardSet.Open($"{files.Root}/{{00000..00004}}.tar::{files.Root}/extra-00000.tar");
        var ex = Assert.Throws<DatasetValidationException>(() => Loader(shards: shards));
        Assert.Contains(ex.Errors, e => e.Location == "extra-00000.tar!bad1.png" && e.Kind == DatasetErrorKind.EmptyCaption);
        Assert.Contains(ex.Errors, e => e.Location == "extra-00000.tar!bad2.png");

        var loader = Loader(shards: shards, policy: ValidationPolicy.Skip, dropLast: false);
        Assert.Equal(24, loader.SampleCount);
        var ids = loader.ReadEpoch(0).SelectMany(b => Snapshot(b).Ids.Split(',')).ToList();
        Assert.Equal(24, ids.Count);
        Assert.Contains("extra-00000.tar!good1", ids);
        Assert.Equal(2, loader.SkippedIn(0));
        Assert.Equal(0, loader.SkippedIn(1));
        _ = loader.ReadEpoch(1).Select(Snapshot).ToList();
        Assert.Equal(2, loader.SkippedIn(1));
        Assert.Equal(2, loader.Scan.Bad);
    }

    [Fact]
    public void Skip_TruncatedShard_KeepsTheSamplesBeforeTheCut_AndResumesTheSame()
    {
        var path = files.PathOf("00002.tar");
        var bytes = File.ReadAllBytes(path);
        var cut = bytes.AsSpan().IndexOf("s000013.png"u8);
        File.WriteAllBytes(path, bytes[..(cut + 600)]);
        var shards = ShardSet.Open(files.Root);
        var failing = Assert.Throws<DatasetValidationException>(() => Loader(shards: shards));
        Assert.Equal("00002.tar!s000013.png", Assert.Single(failing.Errors).Location);

        var loader = Loader(shards: shards, policy: ValidationPolicy.Skip, dropLast: false, batch: 3);
        Assert.Equal(21, loader.SampleCount); // s000010..s000012 kept, s000013 and s000014 lost
        var uninterrupted = loader.Read(new LoaderPosition(0, 0)).Take(10).Select(Snapshot).ToList();
        Assert.Equal(1, loader.SkippedIn(0));
        var resumed = Loader(shards: shards, policy: ValidationPolicy.Skip, dropLast: false, batch: 3).Read(new LoaderPosition(1, 1)).Take(2).Select(Snapshot).ToList();
        AssertSame(uninterrupted[8..10], resumed);
    }

    [Fact]
    public void Read_ShardChangedAfterTheScan_FailsNamingTheShard()
    {
        var loader = Loader(buffer: 1);
        foreach (var shard in Directory.GetFiles(files.Root, "*.tar")) File.WriteAllBytes(shard, File.ReadAllBytes(files.PathOf("00004.tar")));
        var ex = Assert.Throws<ShardReadException>(() => loader.ReadEpoch(0).Select(Snapshot).ToList());
        Assert.Contains("the scan counted 5", ex.Message);
    }

    [Fact]
    public void MemoryCache_StaysWithinItsBudget_AndServesTheSamePixels()
    {
        var imageBytes = 3 * 8 * 8 * sizeof(float);
        var cached = Loader(memory: true, budget: 5 * imageBytes, dropLast: false);
        var first = cached.ReadEpoch(0).Select(Snapshot).ToList();
        Assert.Equal(5 * imageBytes, cached.CachedBytes); // 23 images served, 5 fit
        var again = cached.ReadEpoch(0).Select(Snapshot).ToList();
        AssertSame(first, again);
        AssertSame(Loader(dropLast: false).ReadEpoch(0).Select(Snapshot).ToList(), again);
        Assert.Throws<ArgumentException>(() => new LoaderOptions(4, MemoryCacheBytes: -1).Validated());
    }

    [Fact]
    public void Split_FromJson_SelectsItsSamples()
    {
        using var other = new TempShards();
        other.WriteSamples(12, 5, i => i < 9 ? "train" : "test");
        var shards = ShardSet.Open(other.Root);
        var test = new ShardedLoader(shards, processor, new LoaderOptions(2, DropLast: false), new ShardLoaderOptions(Split: "test"));
        Assert.Equal(3, test.SampleCount);
        Assert.Equal(["s000009", "s000010", "s000011"], test.ReadEpoch(0).SelectMany(b => Snapshot(b).Ids.Split(',')).Select(id => id[(id.IndexOf('!') + 1)..]).Order());
        Assert.Contains("split 'val'", Assert.Throws<ArgumentException>(() => new ShardedLoader(shards, processor, new LoaderOptions(2), new ShardLoaderOptions(Split: "val"))).Message);
    }
}
