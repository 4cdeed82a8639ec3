using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Service.Tests.Infrastructure;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>Malformed and hostile requests: each is refused with a ProblemDetails naming what is wrong, and nothing is stored.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private readonly ServiceStack stack = new();
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        await stack.InitializeAsync();
        client = stack.Client(await stack.CreateUserKeyAsync("bad-input"));
    }

    public Task DisposeAsync() => stack.DisposeAsync();

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[1, 2]")]
    [InlineData("null")]
    [InlineData("{\"spec\": {\"steps\": 5,}}")]
    [InlineData("\u0000\u0001")]
    public async Task CreateJob_MalformedJson_Returns400Problem(string body)
    {
        var response = await client.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty((await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("multipart/form-data")]
    public async Task Post_WrongContentType_Returns415(string contentType)
    {
        foreach (var path in new[] { "/v1/jobs", "/v1/datasets", "/v1/models" })
        {
            var content = new ByteArrayContent("{}"u8.ToArray());
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync(path, content)).StatusCode);
        }
    }

    public static TheoryData<string, string> HostileArchives() => new()
    {
        { "escape.tar", "../evil.txt" },
        { "link.tar", "link.png" },
        { "corrupt.tar.gz", "corrupt.tar.gz" },
    };

    [Theory]
    [MemberData(nameof(HostileArchives))]
    public async Task UploadDataset_HostileArchive_Returns400NamingTheEntry_AndStoresNothing(string filename, string entry)
    {
        var response = await UploadAsync(filename, BuildArchive(filename));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        var errors = (await ServiceStack.ReadJsonAsync(new HttpResponseMessage { Content = new StringContent(text) }))["errors"]!.AsObject();
        Assert.True(errors.Any(e => e.Key.Contains(entry, StringComparison.Ordinal) || e.Value!.ToJsonString().Contains(entry, StringComparison.Ordinal)),
            $"no error names {entry}: {text}");
        Assert.Empty((await ServiceStack.ReadJsonAsync(await client.GetAsync("/v1/datasets")))["data"]!.AsArray());
        var folder = Path.Combine(stack.DataRoot, "datasets");
        Assert.True(!Directory.Exists(folder) || Directory.GetFileSystemEntries(folder).Length == 0, "the refused upload left files behind");
        Assert.False(File.Exists(Path.Combine(stack.DataRoot, "evil.txt")));
    }

    [Fact]
    public async Task UploadDataset_WrongExtension_Returns400NamingFilename()
    {
        var response = await UploadAsync("dataset.rar", BuildArchive("truncated.tar"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject().ContainsKey("filename"));
    }

    private Task<HttpResponseMessage> UploadAsync(string filename, byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return client.PostAsync($"/v1/datasets/upload?filename={Uri.EscapeDataString(filename)}", content);
    }

    private static byte[] BuildArchive(string filename)
    {
        var output = new MemoryStream();
        switch (filename)
        {
            case "corrupt.tar.gz":
                return [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef];
        }
        using (var tar = new TarWriter(output, leaveOpen: true))
        {
            Add(tar, "manifest.jsonl", Encoding.UTF8.GetBytes("{\"image\":\"a.png\",\"captions\":[\"a square\"]}\n"));
            var png = Png();
            switch (filename)
            {
                case "escape.tar": Add(tar, "a.png", png); Add(tar, "../evil.txt", "x"u8.ToArray()); break;
                case "link.tar": Add(tar, "a.png", png); tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "link.png") { LinkName = "/etc/passwd" }); break;
                case "truncated.tar": Add(tar, "a.png", png[..(png.Length / 2)]); break;
            }
        }
        return output.ToArray();
    }

    private static void Add(TarWriter tar, string name, byte[] data) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });

    private static byte[] Png()
    {
        using var image = new Image<Rgb24>(16, 16, new Rgb24(200, 30, 30));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
