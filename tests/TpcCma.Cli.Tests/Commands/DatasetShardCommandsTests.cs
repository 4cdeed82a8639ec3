using System.Formats.Tar;

namespace TpcCma.Cli.Tests.Commands;

/// <summary><c>tpccma datasets make-synthetic --format webdataset</c>, <c>datasets convert</c> and <c>datasets validate</c> on shards.</summary>
[Collection("Console")]
public sealed class DatasetShardCommandsTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("shard-commands").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string At(string name) => Path.Combine(temp, name);

    [Fact]
    public async Task MakeSynthetic_WebDataset_WritesTheSameSamplesAsTheFolderFormat_Reproducibly()
    {
        var (code, stdout, err) = await Run("datasets", "make-synthetic", "--out", At("a"), "--count", "25", "--size", "16", "--seed", "3",
            "--format", "webdataset", "--shard-size", "10");
        Assert.True(code == 0, stdout + err);
        Assert.Equal(["00000.tar", "00001.tar", "00002.tar"], Directory.GetFiles(At("a"), "*.tar").Select(Path.GetFileName).Order());
        await Run("datasets", "make-synthetic", "--out", At("b"), "--count", "25", "--size", "16", "--seed", "3", "--format", "webdataset", "--shard-size", "10");
        Assert.Equal(File.ReadAllBytes(At("a/00001.tar")), File.ReadAllBytes(At("b/00001.tar")));

        var folder = SyntheticShapes.Write(At("folder"), new SyntheticShapesOptions(Count: 25, Size: 16, Seed: 3));
        Assert.Equal(0, (await Run("datasets", "convert", At("a"), "--out", At("back"))).Code);
        var back = ImageTextDataset.Open(At("back"));
        Assert.Equal(folder.ClassNames, back.ClassNames);
        for (var i = 0; i < 25; i++)
        {
            var (expected, actual) = (folder.Samples[i], back.Samples[i]);
            Assert.Equal((string.Join("|", expected.Captions), expected.Label, expected.Split), (string.Join("|", actual.Captions), actual.Label, actual.Split));
            Assert.Equal(File.ReadAllBytes(expected.ImagePath), File.ReadAllBytes(actual.ImagePath));
        }
    }

    [Fact]
    public async Task Convert_FolderToShardsAndBack_KeepsEverySample()
    {
        var folder = SyntheticShapes.Write(At("folder"), new SyntheticShapesOptions(Count: 12, Size: 16, Seed: 1));
        var (code, stdout, _) = await Run("datasets", "convert", At("folder"), "--out", At("shards"), "--shard-size", "5");
        Assert.Equal(0, code);
        Assert.Contains("wrote 12 samples in 3 shard(s)", stdout);
        Assert.Equal(0, (await Run("datasets", "convert", At("shards"), "--out", At("again"))).Code);
        var again = ImageTextDataset.Open(At("again"));
        Assert.Equal(folder.Samples.Select(s => (string.Join("|", s.Captions), s.Label, s.Split)), again.Samples.Select(s => (string.Join("|", s.Captions), s.Label, s.Split)));
        Assert.Equal(2, (await Run("datasets", "convert", At("folder"), "--out", At("shards"))).Code); // refuses a non-empty folder
    }

    [Fact]
    public async Task Validate_Shards_LocatesABrokenImage_AndExitsOne()
    {
        await Run("datasets", "make-synthetic", "--out", At("s"), "--count", "8", "--size", "16", "--format", "webdataset", "--shard-size", "4");
        // Rewrite shard 1 with sample 000005's image truncated in the middle.
        var path = At("s/00001.tar");
        var members = new List<(string Name, byte[] Data)>();
        using (var reader = new TarReader(File.OpenRead(path)))
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                members.Add((entry.Name, entry.Name == "000005.png" ? data.ToArray()[..(int)(data.Length / 2)] : data.ToArray()));
            }
        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Ustar))
            foreach (var (name, data) in members) writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });

        var (code, stdout, _) = await Run("datasets", "validate", At("s"));
        Assert.Equal(1, code);
        Assert.Contains("00001.tar!000005.png: ", stdout);
        Assert.Contains("invalid: 1 error(s); skipping them keeps 7 of 8 samples", stdout);
    }

    [Fact]
    public async Task Validate_PatternThatExpandsToNothing_IsAUsageError()
    {
        var (code, _, err) = await Run("datasets", "validate", At("{00009..00001}.tar"));
        Assert.Equal(2, code);
        Assert.Contains("expands to no shards", err);
    }
}
