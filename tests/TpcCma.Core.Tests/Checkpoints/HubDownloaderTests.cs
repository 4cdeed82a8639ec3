using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using TpcCma.Checkpoints;
using TpcCma.Core.Tests.Model;

namespace TpcCma.Core.Tests.Checkpoints;

/// <summary>The hub client against a real HTTP server on 127.0.0.1 serving the reference HF folder.</summary>
public sealed class HubDownloaderTests : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly string cache = Directory.CreateTempSubdirectory("hub").FullName;
    private readonly ConcurrentQueue<string> requests = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Uri baseUrl;

    /// <summary>Bytes to send of model.safetensors before cutting the connection (first request only), or -1.</summary>
    private long cutAfter = -1;
    private bool corrupt;

    public HubDownloaderTests()
    {
        var port = FreePort();
        baseUrl = new Uri($"http://127.0.0.1:{port}/");
        listener.Prefixes.Add(baseUrl.ToString());
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Close();
        Directory.Delete(cache, recursive: true);
    }

    private HubDownloader Downloader(string? host = null) =>
        new(new HubOptions(baseUrl, cache, [host ?? "127.0.0.1"], Token: "secret"));

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception) when (stop.IsCancellationRequested || !listener.IsListening) { return; }
            try { Serve(context); }
            catch (HttpListenerException) { }   // the client went away
        }
    }

    private void Serve(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath;   // /org/name/resolve/rev/file
        var range = context.Request.Headers["Range"];
        requests.Enqueue($"{path} range={range ?? "-"} auth={context.Request.Headers["Authorization"]}");
        var parts = path.Trim('/').Split('/');
        var file = Path.Combine(TinyClip.HfDirectory, parts[^1]);
        var response = context.Response;
        if (parts.Length != 5 || parts[0] != "tiny-org" || parts[2] != "resolve" || !File.Exists(file))
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }
        var bytes = File.ReadAllBytes(file);
        if (parts[^1] == "model.safetensors") response.Headers["X-Linked-Etag"] = $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"";
        if (corrupt && parts[^1] == "model.safetensors") bytes[^10] ^= 0xFF;
        long from = 0;
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            from = long.Parse(range[6..].TrimEnd('-'));
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {from}-{bytes.Length - 1}/{bytes.Length}";
        }
        response.ContentLength64 = bytes.Length - from;
        var cut = parts[^1] == "model.safetensors" ? Interlocked.Exchange(ref cutAfter, -1) : -1;
        if (cut >= 0)
        {
            response.OutputStream.Write(bytes, (int)from, (int)cut);
            response.OutputStream.Flush();
            response.Abort();
            return;
        }
        response.OutputStream.Write(bytes, (int)from, (int)(bytes.Length - from));
        response.Close();
    }

    [Fact]
    public async Task Download_FetchesEveryFileIntoTheCache_HfReference()
    {
        var folder = await Downloader().DownloadAsync(HubReference.Parse("hf:tiny-org/tiny-clip@v1"));

        Assert.Equal(Path.Combine(cache, "tiny-org--tiny-clip--v1"), folder);
        foreach (var file in HubDownloader.RequiredFiles.Concat(HubDownloader.OptionalFiles))
            Assert.Equal(File.ReadAllBytes(Path.Combine(TinyClip.HfDirectory, file)), File.ReadAllBytes(Path.Combine(folder, file)));
        Assert.All(requests, r => Assert.EndsWith("auth=Bearer secret", r));

        var before = requests.Count;
        await Downloader().DownloadAsync(HubReference.Parse("hf:tiny-org/tiny-clip@v1"));
        Assert.Equal(before, requests.Count);
    }

    [Fact]
    public async Task Download_ResumesWithARangeRequest_InterruptedTransfer()
    {
        var reference = HubReference.Parse("hf:tiny-org/tiny-clip");
        cutAfter = 1_000_000;

        await Assert.ThrowsAnyAsync<Exception>(() => Downloader().DownloadAsync(reference));
        var part = Path.Combine(cache, "tiny-org--tiny-clip--main", "model.safetensors.part");
        Assert.Equal(1_000_000, new FileInfo(part).Length);

        var folder = await Downloader().DownloadAsync(reference);

        Assert.Contains(requests, r => r.Contains("/model.safetensors range=bytes=1000000-"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(TinyClip.HfDirectory, "model.safetensors")), File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        Assert.False(File.Exists(part));
    }

    [Fact]
    public async Task Download_RejectsAndRemovesTheFile_ChecksumMismatch()
    {
        corrupt = true;

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
        Assert.Empty(requests);
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
