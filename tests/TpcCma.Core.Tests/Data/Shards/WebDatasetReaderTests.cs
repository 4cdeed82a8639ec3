namespace TpcCma.Core.Tests.Data.Shards;

public sealed class WebDatasetReaderTests : IDisposable
{
    private readonly TempShards files = new();

    public void Dispose() => files.Dispose();

    private static List<ShardSample> ReadAll(string path, WebDatasetFormat? format = null, string? split = null)
    {
        using var stream = File.OpenRead(path);
        return [.. WebDatasetReader.Read(stream, new ShardRef(path, split), format ?? WebDatasetFormat.Default)];
    }

    [Fact]
    public void Read_GroupsMembersByKey_WithCaptionsLabelAndSplit()
    {
        var path = files.Tar("00000.tar",
            ("a/k1.jpg", TempShards.Png(1)), ("a/k1.txt", TempShards.Text("a red disc\nthe disc is red\n")),
            ("a/k1.json", TempShards.Text("""{"label": "red", "split": "test"}""")),
            ("a/k2.png", TempShards.Png(2)), ("a/k2.txt", TempShards.Text("blue")), ("a/k2.cls", TempShards.Text("3")));
        var samples = ReadAll(path, split: "train");
        Assert.Equal(["a/k1", "a/k2"], samples.Select(s => s.Key));
        Assert.Equal(["a red disc", "the disc is red"], samples[0].Captions);
        Assert.Equal(("red", "test"), (samples[0].Label, samples[0].Split));
        Assert.Equal((null, "train"), (samples[1].Label, samples[1].Split)); // no json: the shard list's split
        Assert.Equal(TempShards.Png(2), samples[1].ImageBytes);
        Assert.All(samples, s => Assert.Null(s.Problem));
        Assert.Equal("00000.tar!a/k1.jpg", samples[0].Location);
    }

    [Fact]
    public void Read_CaptionField_TakesCaptionsFromJson()
    {
        var path = files.Tar("00000.tar", ("k1.webp", TempShards.Png(1)), ("k1.json", TempShards.Text("""{"caption": ["one", "two"], "label": 4}""")));
        var sample = Assert.Single(ReadAll(path, new WebDatasetFormat(CaptionField: "caption")));
        Assert.Equal(["one", "two"], sample.Captions);
        Assert.Equal("4", sample.Label);
    }

    [Fact]
    public void Read_MemberWithoutCaption_IsAProblemNamingShardAndMember()
    {
        var path = files.Tar("00012.tar", ("KEY.jpg", TempShards.Png(1)), ("next.jpg", TempShards.Png(2)), ("next.txt", TempShards.Text("fine")));
        var samples = ReadAll(path);
        Assert.Equal("00012.tar!KEY.jpg", samples[0].Problem!.Location);
        Assert.Equal(DatasetErrorKind.EmptyCaption, samples[0].Problem!.Kind);
        Assert.Contains("KEY.txt is missing", samples[0].Problem!.Message);
        Assert.Null(samples[1].Problem); // the stream goes on after a bad sample
    }

    [Fact]
    public void Read_CaptionWithoutImage_IsAMissingFileProblem()
    {
        var path = files.Tar("00001.tar", ("lonely.txt", TempShards.Text("no picture")));
        var problem = Assert.Single(ReadAll(path)).Problem!;
        Assert.Equal((DatasetErrorKind.MissingFile, "00001.tar!lonely.txt"), (problem.Kind, problem.Location));
    }

    [Fact]
    public void Read_TruncatedShard_ThrowsNamingShardAndMember_AfterTheSamplesBeforeIt()
    {
        var path = files.Tar("00012.tar", ("k1.png", TempShards.Png(1)), ("k1.txt", TempShards.Text("one")),
            ("k2.png", TempShards.Png(2, 64, 64)), ("k2.txt", TempShards.Text("two")));
        var bytes = File.ReadAllBytes(path);
        var k2 = bytes.AsSpan().IndexOf("k2.png"u8);
        File.WriteAllBytes(path, bytes[..(k2 + 512 + 40)]);   // the k2.png header and 40 bytes of its data
        var read = new List<ShardSample>();
        var ex = Assert.Throws<ShardReadException>(() =>
        {
            using var stream = File.OpenRead(path);
            foreach (var s in WebDatasetReader.Read(stream, new ShardRef(path, null), WebDatasetFormat.Default)) read.Add(s);
        });
        Assert.Equal("00012.tar!k2.png", ex.Location);
        Assert.StartsWith("00012.tar!k2.png: ", ex.Message);
        Assert.Equal(DatasetErrorKind.CorruptShard, ex.Kind);
        Assert.Equal(["k1"], read.Select(s => s.Key));
    }

    [Fact]
    public void Read_NotATarFile_ThrowsNamingTheShard()
    {
        var path = files.PathOf("00003.tar");
        File.WriteAllBytes(path, [.. TempShards.Png(5, 40, 40), .. new byte[600]]);
        var ex = Assert.Throws<ShardReadException>(() => ReadAll(path));
        Assert.Equal("00003.tar", ex.Location);
        Assert.Contains("not a tar file", ex.Message);
    }

    [Fact]
    public void Read_EmptyFile_ThrowsNamingTheShard()
    {
        var path = files.PathOf("00004.tar");
        File.WriteAllBytes(path, []);
        Assert.Equal("00004.tar: the shard is empty (0 bytes)", Assert.Throws<ShardReadException>(() => ReadAll(path)).Message);
    }

    [Fact]
    public void Read_GarbageInPlaceOfALaterHeader_ThrowsInsteadOfEndingEarly()
    {
        var path = files.Tar("00005.tar", ("k1.png", TempShards.Png(1)), ("k1.txt", TempShards.Text("one")), ("k2.png", TempShards.Png(2)), ("k2.txt", TempShards.Text("two")));
        var bytes = File.ReadAllBytes(path);
        var k2 = bytes.AsSpan().IndexOf("k2.png"u8);
        bytes[k2 + 150] ^= 0x5A; // inside k2.png's header: its checksum no longer matches
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<ShardReadException>(() => ReadAll(path));
        Assert.Equal("00005.tar!k1.txt", ex.Location);
    }

    [Fact]
    public void KeyOf_SplitsAtTheFirstDotOfTheFileName()
    {
        Assert.Equal(("dir.v2/abc", "seg.png"), WebDatasetReader.KeyOf("dir.v2/abc.seg.png"));
        Assert.Equal(("abc", "jpg"), WebDatasetReader.KeyOf("abc.JPG"));
    }
}
