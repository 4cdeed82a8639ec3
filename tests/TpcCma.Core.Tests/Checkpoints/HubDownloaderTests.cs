namespace TpcCma.Core.Tests.Checkpoints;

/// <summary>The hub client against a real HTTP server on 127.0.0.1 serving the reference HF folder.</summary>
public sealed class HubDownloaderTests : IDisposable
{
    private readonly TinyHubServer server = new();
    private readonly string cache = Directory.CreateTempSubdirectory("hub").FullName;

    public void Dispose()
    {
        server.Dispose();
        Directory.Delete(cache, recursive: true);
    }

    private HubDownloader Downloader(string? host = null) =>
        new(new HubOptions(server.BaseUrl, cache, [host ?? "127.0.0.1"], Token: "secret"));

    [Fact]
    public async Task Download_FetchesEveryFileIntoTheCache_HfReference()
    {
        var folder = await Downloader().DownloadAsync(HubReference.Parse("hf:tiny-org/tiny-clip@v1"));

        Assert.Equal(Path.Combine(cache, "tiny-org--tiny-clip--v1"), folder);
        foreach (var file in HubDownloader.RequiredFiles.Concat(HubDownloader.OptionalFiles))
            Assert.Equal(File.ReadAllBytes(Path.Combine(TinyClip.HfDirectory, file)), File.ReadAllBytes(Path.Combine(folder, file)));
        Assert.All(server.Requests, r => Assert.EndsWith("auth=Bearer secret", r));

        var before = server.Requests.Count;
        await Downloader().DownloadAsync(HubReference.Parse("hf:tiny-org/tiny-clip@v1"));
        Assert.Equal(before, server.Requests.Count);
    }

    [Fact]
    public async Task Download_ResumesWithARangeRequest_InterruptedTransfer()
    {
        var reference = HubReference.Parse("hf:tiny-org/tiny-clip");
        server.CutAfter = 1_000_000;

        await Assert.ThrowsAnyAsync<Exception>(() => Downloader().DownloadAsync(reference));
        var part = Path.Combine(cache, "tiny-org--tiny-clip--main", "model.safetensors.part");
        Assert.Equal(1_000_000, new FileInfo(part).Length);

        var folder = await Downloader().DownloadAsync(reference);

        Assert.Contains(server.Requests, r => r.Contains("/model.safetensors range=bytes=1000000-"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(TinyClip.HfDirectory, "model.safetensors")), File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        Assert.False(File.Exists(part));
    }

    [Fact]
    public async Task Download_RejectsAndRemovesTheFile_ChecksumMismatch()
    {
        server.Corrupt = true;

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => Downloader().DownloadAsync(HubReference.Parse("hf:tiny-org/tiny-clip")));

        Assert.Contains("model.safetensors is corrupt", ex.Message);
        var folder = Path.Combine(cache, "tiny-org--tiny-clip--main");
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors.part")));
    }

    [Fact]
    public async Task Download_Refuses_HostNotAllowed()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Downloader("huggingface.co").DownloadAsync(HubReference.Parse("hf:tiny-org/tiny-clip")));
        Assert.Contains("127.0.0.1", ex.Message);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Download_NamesTheFile_MissingRepository()
    {
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => Downloader().DownloadAsync(HubReference.Parse("hf:other-org/none")));
        Assert.Contains("config.json", ex.Message);
        Assert.Contains("404", ex.Message);
    }

    [Theory]
    [InlineData("hf:org")]
    [InlineData("hf:../x/y")]
    [InlineData("hf:org/name@")]
    [InlineData("org/name")]
    public void Parse_Throws_MalformedReference(string reference) =>
        Assert.Throws<ArgumentException>(() => HubReference.Parse(reference));
}
