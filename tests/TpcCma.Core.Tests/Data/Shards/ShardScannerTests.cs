namespace TpcCma.Core.Tests.Data.Shards;

public sealed class ShardScannerTests : IDisposable
{
    private readonly TempShards files = new();

    public void Dispose() => files.Dispose();

    [Fact]
    public void Probe_ReadsABoundedSampleSpreadOverTheShards()
    {
        files.WriteSamples(60, shardSize: 3); // 20 shards
        File.WriteAllBytes(files.PathOf("00019.tar"), TempShards.Text("not a tar at all, but long enough to be read as a header block" + new string('x', 600)));
        var report = ShardScanner.Probe(ShardSet.Open(files.Root), maxShards: 4, samplesPerShard: 2);
        Assert.Equal(["00000.tar", "00006.tar", "00013.tar", "00019.tar"], report.Shards.Select(s => s.Shard.Name));
        Assert.Equal(6, report.Samples); // two from each readable shard
        Assert.Equal("00019.tar", Assert.Single(report.Errors).Location); // the last shard is always among those probed
    }

    [Fact]
    public void Scan_CountsUsableSamplesPerShardAndSplit_AndReportsProgress()
    {
        files.WriteSamples(7, shardSize: 3, i => i < 5 ? "train" : "test");
        var seen = new List<ShardScanProgress>();
        var report = ShardScanner.Scan(ShardSet.Open(files.Root), workers: 1, progress: new Collect(seen));
        Assert.Equal([3, 3, 1], report.Shards.Select(s => s.Usable));
        Assert.Equal(2, report.Shards[1].UsableIn("train"));
        Assert.Equal(["test", "train"], report.Splits);
        Assert.Equal(["even", "odd"], report.Labels);
        Assert.Equal(3, seen.Count);
        Assert.Equal(7, seen[^1].Samples);
    }

    private sealed class Collect(List<ShardScanProgress> into) : IProgress<ShardScanProgress>
    {
        public void Report(ShardScanProgress value)
        {
            lock (into) into.Add(value);
        }
    }
}
