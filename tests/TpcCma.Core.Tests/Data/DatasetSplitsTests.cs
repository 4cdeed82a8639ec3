using TpcCma.Data;

namespace TpcCma.Core.Tests.Data;

public class DatasetSplitsTests
{
    [Fact]
    public void HashFraction_IsTheLeadingSha256BytesOfTheId()
    {
        // SHA-256("abc") starts ba7816bf8f01cfea (FIPS 180-2 test vector), so the fraction is fixed on every platform.
        Assert.Equal(0xba7816bf8f01cfeaUL / 18446744073709551616.0, DatasetSplits.HashFraction("abc"));
        Assert.Equal("test", DatasetSplits.Assign("abc", [("train", 0.7), ("test", 0.3)]));
        Assert.Equal("train", DatasetSplits.Assign("abc", [("train", 0.75), ("test", 0.25)]));
    }

    [Fact]
    public void Assign_FollowsTheRatios_OnManyIds()
    {
        var ratios = DatasetSplits.Parse("train=0.8, val=0.1, test=0.1");
        var counts = Enumerable.Range(0, 10_000).Select(i => DatasetSplits.Assign($"img_{i}.png", ratios))
            .GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
        Assert.InRange(counts["train"], 7800, 8200);
        Assert.InRange(counts["val"], 900, 1100);
        Assert.InRange(counts["test"], 900, 1100);
    }

    [Fact]
    public void ByHash_KeepsManifestSplits_UnlessOverwriting()
    {
        var samples = new[] { new DatasetSample("abc", "/x/abc.png", ["c"], null, "holdout"), new DatasetSample("abc2", "/x/2.png", ["c"], null, null) };
        var dataset = new ImageTextDataset("/x", samples);
        var split = DatasetSplits.ByHash(dataset, [("train", 0.5), ("test", 0.5)]);
        Assert.Equal("holdout", split.Samples[0].Split);
        Assert.Equal(DatasetSplits.Assign("abc2", [("train", 0.5), ("test", 0.5)]), split.Samples[1].Split);
        Assert.Equal("test", DatasetSplits.ByHash(dataset, [("train", 0.5), ("test", 0.5)], overwrite: true).Samples[0].Split);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("train=0")]
    [InlineData("train=0.5,train=0.5")]
    [InlineData("")]
    public void Parse_RejectsBadRatios(string text) => Assert.Throws<ArgumentException>(() => DatasetSplits.Parse(text));
}
