using TpcCma.Data.Shards;

namespace TpcCma.Core.Tests.Data.Shards;

public sealed class ShardListTests
{
    [Fact]
    public void Expand_NumericRange_KeepsZeroPadding()
    {
        Assert.Equal(["shards/00008.tar", "shards/00009.tar", "shards/00010.tar"], ShardList.Expand("shards/{00008..00010}.tar"));
        Assert.Equal(["a9", "a10"], ShardList.Expand("a{9..10}"));
    }

    [Fact]
    public void Expand_ListsAndSeveralBraces_Multiply()
    {
        Assert.Equal(["x-a-0.tar", "x-a-1.tar", "x-b-0.tar", "x-b-1.tar"], ShardList.Expand("x-{a,b}-{0..1}.tar"));
    }

    [Fact]
    public void Parse_SplitPrefixesAndSeparators_GiveSplitsAndAbsolutePaths()
    {
        var shards = ShardList.Parse("train=tr-{0..1}.tar::test=te-0.tar s3://bucket/extra-{7..7}.tar", "/data");
        Assert.Equal(["/data/tr-0.tar", "/data/tr-1.tar", "/data/te-0.tar", "s3://bucket/extra-7.tar"], shards.Select(s => s.Location));
        Assert.Equal(["train", "train", "test", null], shards.Select(s => s.Split));
        Assert.Equal("extra-7.tar", shards[3].Name);
    }

    [Fact]
    public void Rebase_RelativeLocalPatterns_BecomeAbsoluteUnderTheBase_RemoteOnesStay()
    {
        var rebased = ShardList.Rebase("train=x/tr-{0..1}.tar::test=x/te-0.tar s3://bucket/e-{7..7}.tar", "/data");
        Assert.Equal("train=/data/x/tr-{0..1}.tar::test=/data/x/te-0.tar::s3://bucket/e-{7..7}.tar", rebased);
        Assert.Equal(["/data/x/tr-0.tar", "/data/x/tr-1.tar", "/data/x/te-0.tar", "s3://bucket/e-7.tar"], ShardList.Parse(rebased).Select(s => s.Location));
    }

    [Fact]
    public void Rebase_OnePlainShard_StaysAShardListRatherThanAnArchive()
    {
        var rebased = ShardList.Rebase("x/00000.tar", "/data");
        Assert.True(ShardList.IsShardList(rebased), rebased);
        Assert.Equal(["/data/x/00000.tar"], ShardList.Parse(rebased).Select(s => s.Location));
    }

    [Theory]
    [InlineData("shards/{00010..00005}.tar")]
    [InlineData("shards/{}.tar")]
    public void Parse_PatternThatExpandsToNothing_NamesThePattern(string pattern)
    {
        var ex = Assert.Throws<ArgumentException>(() => ShardList.Parse(pattern, "/data"));
        Assert.Contains(pattern, ex.Message);
        Assert.Contains("expands to no shards", ex.Message);
    }

    [Fact]
    public void Parse_UnbalancedBraceOrDuplicate_IsRefused()
    {
        Assert.Contains("unbalanced", Assert.Throws<ArgumentException>(() => ShardList.Parse("a/{0..3.tar", "/d")).Message);
        Assert.Contains("listed 2 times", Assert.Throws<ArgumentException>(() => ShardList.Parse("a.tar::a.tar", "/d")).Message);
    }

    [Theory]
    [InlineData("shards/{00000..00003}.tar", true)]
    [InlineData("s3://bucket/x.tar", true)]
    [InlineData("a.tar::b.tar", true)]
    [InlineData("train=a.tar", true)]
    [InlineData("data/shapes", false)]
    [InlineData("data/archive.tar", false)]
    public void IsShardList_TellsShardListsFromOtherLocations(string location, bool expected) =>
        Assert.Equal(expected, ShardList.IsShardList(location));
}
