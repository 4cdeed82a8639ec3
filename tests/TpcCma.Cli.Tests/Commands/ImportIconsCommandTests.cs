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

    /// <summary>Runs <c>datasets import-icons</c> from the cached package with <paramref name="arguments"/>; asserts the exit code and that the error names <paramref name="named"/>.</summary>
    private static async Task AssertImportRefused(string cache, string output, int exitCode, string named, params string[] arguments)
    {
        var (code, _, err) = await Run(["datasets", "import-icons", "--out", output, "--cache", cache, .. arguments]);
        Assert.Equal(exitCode, code);
        Assert.Contains(named, err);
    }

    [Fact]
    public async Task ImportIcons_BadInput_NamedErrorsAndExitCodes()
    {
        var cache = Path.Combine(temp, "cache");
        IconFixture.WritePackage(cache);
        var output = Path.Combine(temp, "icons");

        await AssertImportRefused(cache, output, ExitCodes.Failed, "'copyleft' has licence 'GPL-3.0'", "--sets", "alpha,copyleft");
        await AssertImportRefused(cache, output, ExitCodes.Failed, "selection is empty", "--min-sets", "50");
        Assert.False(Directory.Exists(output));
        await AssertImportRefused(cache, output, ExitCodes.InvalidRequest, "size", "--size", "4");
        await AssertImportRefused(cache, output, ExitCodes.InvalidRequest, "--class", "--class", "5");
    }
}
