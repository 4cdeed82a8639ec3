using TpcCma.Core.Tests.Data;

namespace TpcCma.Cli.Tests.Commands;

[Collection("Console")]
public sealed class ImportIconsCommandTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("cli-icons").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public async Task ImportIcons_WritesTheDatasetAndSaysWhatItDid()
    {
        var cache = Path.Combine(temp, "cache");
        IconFixture.WritePackage(cache);
        var output = Path.Combine(temp, "icons");
        var (code, stdout, stderr) = await Run("datasets", "import-icons", "--out", output, "--cache", cache, "--size", "16", "--min-sets", "3", "--test-sets", "delta");
        Assert.True(code == ExitCodes.Ok, stderr);
        Assert.Contains("4 classes", stdout);
        Assert.Equal(["arrow left", "cat", "heart", "home"], ImageTextDataset.Open(output).ClassNames);
    }

    [Fact]
    public async Task ImportIcons_BadInput_NamedErrorsAndExitCodes()
    {
        var cache = Path.Combine(temp, "cache");
        IconFixture.WritePackage(cache);
        var output = Path.Combine(temp, "icons");

        var licence = await Run("datasets", "import-icons", "--out", output, "--cache", cache, "--sets", "alpha,copyleft");
        Assert.Equal(ExitCodes.Failed, licence.Code);
        Assert.Contains("'copyleft' has licence 'GPL-3.0'", licence.Err);

        var empty = await Run("datasets", "import-icons", "--out", output, "--cache", cache, "--min-sets", "50");
        Assert.Equal(ExitCodes.Failed, empty.Code);
        Assert.Contains("selection is empty", empty.Err);
        Assert.False(Directory.Exists(output));

        var size = await Run("datasets", "import-icons", "--out", output, "--cache", cache, "--size", "4");
        Assert.Equal(ExitCodes.InvalidRequest, size.Code);
        Assert.Contains("size", size.Err);

        var typo = await Run("datasets", "import-icons", "--out", output, "--cache", cache, "--class", "5");
        Assert.Equal(ExitCodes.InvalidRequest, typo.Code);
        Assert.Contains("--class", typo.Err);
    }
}
