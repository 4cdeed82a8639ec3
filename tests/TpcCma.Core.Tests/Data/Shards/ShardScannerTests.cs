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

    [Fact]
    public void Validate_DecodesEveryImage_LocatesEveryProblem_AndCountsThemByKind()
    {
        var png = TempShards.Png(1);
        // Header and end marker intact, a byte of the pixel data flipped (the chunk's CRC no longer matches).
        var corrupt = png.ToArray();
        corrupt[System.Text.Encoding.ASCII.GetString(corrupt).IndexOf("IDAT", StringComparison.Ordinal) + 6] ^= 0x5A;
        files.Tar("00000.tar",
            ("a.png", png), ("a.txt", TempShards.Text("fine")),
            ("b.png", corrupt), ("b.txt", TempShards.Text("corrupt pixels")),
            ("c.png", png), // no caption
            ("d.png", TempShards.Text("no image at all")), ("d.txt", TempShards.Text("garbage")));
        files.Tar("00001.tar", ("e.png", png), ("e.txt", TempShards.Text("fine too")));
        var set = ShardSet.Open(files.PathOf("{00000..00001}.tar"));

        var report = ShardScanner.Validate(set, workers: 1, maxReportedErrors: 2);

        Assert.Equal(3, report.ErrorCount);
        Assert.Equal(2, report.Errors.Count);   // listed up to the bound, counted in full
        Assert.Equal(2, report.Usable);
        Assert.Equal(3, report.ErrorsByKind.Values.Sum());
        Assert.Equal(1, report.ErrorsByKind[DatasetErrorKind.EmptyCaption]);
        var streamed = new List<string>();
        var all = ShardScanner.Validate(set, workers: 1, onProblems: found => streamed.AddRange(found.Select(e => e.Location))).Errors.Select(e => e.Location).ToList();
        Assert.Equal(["00000.tar!b.png", "00000.tar!c.png", "00000.tar!d.png"], all);
        Assert.Equal(all, streamed);
    }

    private sealed class Collect(List<ShardScanProgress> into) : IProgress<ShardScanProgress>
    {
        public void Report(ShardScanProgress value)
        {
            lock (into) into.Add(value);
        }
    }
}
