using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>
/// One deployment for every <see cref="BadInputTests"/> test, with small limits so that bodies and archives over them
/// stay small too. Each test has a user of its own, and so lists of its own.
/// </summary>
public sealed class BadInputDeployment : IAsyncLifetime
{
    public ServiceStack Stack { get; } = new(new Dictionary<string, string>
    {
        ["Api:MaxJsonBodyBytes"] = $"{BadInputTests.JsonLimit}",
        ["Datasets:MaxUploadBytes"] = $"{BadInputTests.UploadLimit}",
        ["Datasets:Archive:MaxTotalBytes"] = $"{BadInputTests.ArchiveBytesLimit}",
        ["Datasets:Archive:MaxEntries"] = $"{BadInputTests.ArchiveEntriesLimit}",
    });

    public Task InitializeAsync() => Stack.InitializeAsync();

    public Task DisposeAsync() => Stack.DisposeAsync();
}

/// <summary>Malformed and hostile requests: each is refused with a ProblemDetails naming what is wrong, and nothing is stored.</summary>
public sealed class BadInputTests(BadInputDeployment deployment) : IClassFixture<BadInputDeployment>, IAsyncLifetime
{
    private readonly ServiceStack stack = deployment.Stack;
    internal const int JsonLimit = 16 * 1024, UploadLimit = 256 * 1024, ArchiveBytesLimit = 1 << 20, ArchiveEntriesLimit = 64;
    private HttpClient client = null!;
    /// <summary>What the data root's datasets folder held before this test: what a refused upload must leave as it was.</summary>
    private string[] datasetFilesBefore = [];

    public async Task InitializeAsync()
    {
        // Without the redirect handler, which buffers request bodies and so would give the streamed ones a Content-Length.
        client = stack.Api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await stack.CreateUserKeyAsync($"bad-input-{Guid.NewGuid():N}"));
        datasetFilesBefore = DatasetFiles();
    }

    public Task DisposeAsync()
    {
        client.Dispose();
        return Task.CompletedTask;
    }

    private string[] DatasetFiles()
    {
        var folder = Path.Combine(stack.DataRoot, "datasets");
        return Directory.Exists(folder) ? [.. Directory.GetFileSystemEntries(folder).Order(StringComparer.Ordinal)] : [];
    }

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
        await AssertNoDatasetStoredAsync();
        Assert.False(File.Exists(Path.Combine(stack.DataRoot, "evil.txt")));
    }

    [Fact]
    public async Task UploadDataset_WrongExtension_Returns400NamingFilename()
    {
        var response = await UploadAsync("dataset.rar", BuildArchive("truncated.tar"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject().ContainsKey("filename"));
    }

    [Theory]
    [InlineData("/v1/jobs", true)]
    [InlineData("/v1/jobs", false)]
    [InlineData("/v1/datasets", true)]
    [InlineData("/v1/datasets", false)]
    [InlineData("/v1/models", false)]
    public async Task Post_JsonOverTheLimit_Returns413NamingTheLimit_AndStoresNothing(string path, bool declaredLength)
    {
        // Valid JSON whose only fault is its size: whitespace past the limit.
        var body = Encoding.UTF8.GetBytes("{\"name\": \"big\"" + new string(' ', 2 * JsonLimit) + "}");
        var response = await client.PostAsync(path, Body(body, "application/json", declaredLength));
        await AssertTooLargeAsync(response, JsonLimit, "Api:MaxJsonBodyBytes", declaredLength ? $"declares {body.Length} bytes" : "grew past it");
        Assert.Empty((await ServiceStack.ReadJsonAsync(await client.GetAsync(path)))["data"]!.AsArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CreateJob_BodyOfExactlyTheJsonLimit_Returns201(bool declaredLength)
    {
        var dataset = await stack.RegisterShapesAsync(client, count: 16);
        var model = await stack.RegisterTinyModelAsync(client);
        var job = $$"""{"base_model": "{{model}}", "dataset": "{{dataset}}", "spec": {"steps": 5, "batch_size": 8} }""";
        var body = Encoding.UTF8.GetBytes(job + new string(' ', JsonLimit - Encoding.UTF8.GetByteCount(job)));
        var response = await client.PostAsync("/v1/jobs", Body(body, "application/json", declaredLength));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Single((await ServiceStack.ReadJsonAsync(await client.GetAsync("/v1/jobs")))["data"]!.AsArray());
    }

    [Theory]
    [InlineData("/v1/jobs")]
    [InlineData("/v1/sweeps")]
    public async Task SubmitJobs_ClientHangsUpMidRequest_EveryStoredJobIsEnqueued(string path)
    {
        var dataset = await stack.RegisterShapesAsync(client, count: 16);
        var model = await stack.RegisterTinyModelAsync(client);
        var body = $$"""{"base_model": "{{model}}", "dataset": "{{dataset}}", "spec": {"steps": 5, "batch_size": 8}""";
        body += path == "/v1/sweeps" ? """, "alpha_targets": [0, 0.1, 0.2, 0.3, 0.4, 0.5]}""" : "}";
        Task<HttpResponseMessage> Submit(CancellationToken ct) => client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"), ct);
        var duration = TimeSpan.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            (await Submit(CancellationToken.None)).EnsureSuccessStatusCode();
            duration = clock.Elapsed < duration ? clock.Elapsed : duration;
        }
        // Hang-ups spread over one request's duration, so some land between storing the job and enqueueing it.
        var hungUp = 0;
        for (var i = 0; i < 40; i++)
        {
            using var hangUp = new CancellationTokenSource(duration * (i % 20) / 20);
            try { await Submit(hangUp.Token); }
            catch (OperationCanceledException) { hungUp++; }
        }
        Assert.True(hungUp > 0, "no request was cut off");
        // What the server started, it finishes after the client has gone.
        await using var db = new NpgsqlConnection(stack.ConnectionString);
        await db.OpenAsync();
        // Every stored job has a Hangfire job whose argument is its id, and records that Hangfire job's id.
        await using var query = new NpgsqlCommand(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM hangfire.job h WHERE h.arguments::text LIKE '%' || j."Id"::text || '%')),
                   count(*) FILTER (WHERE j."HangfireJobId" IS NULL)
            FROM jobs j
            """, db);
        var (stored, notEnqueued, noHangfireId) = (0L, 0L, 0L);
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            await using var reader = await query.ExecuteReaderAsync();
            await reader.ReadAsync();
            (stored, notEnqueued, noHangfireId) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
            if (notEnqueued == 0 && noHangfireId == 0) break;
        }
        Assert.True(notEnqueued == 0 && noHangfireId == 0,
            $"of {stored} stored jobs, {notEnqueued} are not in Hangfire and {noHangfireId} lack their Hangfire id ({hungUp} requests cut off)");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UploadDataset_OverTheJsonLimitUnderTheUploadLimit_IsRegistered(bool declaredLength)
    {
        var images = Enumerable.Range(0, 6).Select(i => $"img{i}.png").ToArray();
        var archive = TestArchives.Tar([("manifest.jsonl", TestArchives.Manifest(images)), .. images.Select((name, i) => (name, TestArchives.Png(48, 48, seed: i)))]);
        Assert.InRange(archive.Length, 2 * JsonLimit, UploadLimit);
        var response = await UploadAsync("photos.tar", archive, declaredLength);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(images.Length, (await ServiceStack.ReadJsonAsync(response))["sample_count"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UploadDataset_OverTheUploadLimit_Returns413_AndStoresNothing(bool declaredLength)
    {
        var archive = TestArchives.Tar(("manifest.jsonl", TestArchives.Manifest("a.png")), ("a.png", TestArchives.Png(320, 320)));
        Assert.True(archive.Length > UploadLimit);
        await AssertTooLargeAsync(await UploadAsync("big.tar", archive, declaredLength), UploadLimit, "Datasets:MaxUploadBytes",
            declaredLength ? $"declares {archive.Length} bytes" : "grew past it");
        await AssertNoDatasetStoredAsync();
    }

    public static TheoryData<string, string, string> ArchiveBombs() => new()
    {
        // 4 MiB of zeros compresses to a few KiB: extraction stops once the bytes written pass the limit.
        { "bomb.tar.gz", "bomb.tar.gz!zeros.bin", $"expands to more than {ArchiveBytesLimit} bytes" },
        { "bomb.zip", "bomb.zip", $"over the limits of {ArchiveEntriesLimit} entries and {ArchiveBytesLimit} bytes" },
        { "many.tar.gz", $"many.tar.gz!f{ArchiveEntriesLimit:D3}.txt", $"more than {ArchiveEntriesLimit} entries" },
    };

    [Theory]
    [MemberData(nameof(ArchiveBombs))]
    public async Task UploadDataset_ArchiveBomb_Returns400NamingTheEntryAndTheLimit_AndStoresNothing(string filename, string entry, string problem)
    {
        var zeros = new byte[4 << 20];
        var archive = filename switch
        {
            "bomb.tar.gz" => TestArchives.Gzip(TestArchives.Tar(("manifest.jsonl", TestArchives.Manifest("a.png")), ("zeros.bin", zeros))),
            "bomb.zip" => TestArchives.Zip(("manifest.jsonl", TestArchives.Manifest("a.png")), ("zeros.bin", zeros)),
            _ => TestArchives.Gzip(TestArchives.Tar([.. Enumerable.Range(0, 2 * ArchiveEntriesLimit).Select(i => ($"f{i:D3}.txt", "x"u8.ToArray()))])),
        };
        Assert.True(archive.Length < UploadLimit / 4, $"the bomb should be small, is {archive.Length} bytes");
        await AssertRefusedAsync(await UploadAsync(filename, archive), entry, "ArchiveTooLarge", problem);
    }

    public static TheoryData<string, string, string> CraftedImages() => new()
    {
        { "truncated", "TruncatedImage", "truncated" },
        { "huge-header", "ImageTooLarge", "60000x60000" },
        { "text-as-png", "UndecodableImage", "not a recognised image format" },
    };

    [Theory]
    [MemberData(nameof(CraftedImages))]
    public async Task UploadDataset_CraftedImage_Returns400NamingTheEntryAndTheProblem_AndStoresNothing(string craft, string kind, string problem)
    {
        var png = TestArchives.Png();
        var image = craft switch
        {
            "truncated" => png[..(png.Length / 2)],
            "huge-header" => TestArchives.PngClaiming(60_000, 60_000),
            _ => "a caption, not pixels"u8.ToArray(),
        };
        var archive = TestArchives.Tar(("manifest.jsonl", TestArchives.Manifest("ok.png", "a.png")), ("ok.png", png), ("a.png", image));
        await AssertRefusedAsync(await UploadAsync($"{craft}.tar", archive), "manifest.jsonl:2", kind, problem, "(a.png)");
    }

    [Fact]
    public async Task UploadDataset_PngNamedJpg_IsDecodedByItsContent()
    {
        // The decoder is chosen from the bytes among the allowed formats, never from the name: a mislabelled
        // image is read as what it is, and a non-image under an image name is refused (CraftedImages above).
        var archive = TestArchives.Tar(("manifest.jsonl", TestArchives.Manifest("photo.jpg")), ("photo.jpg", TestArchives.Png()));
        var response = await UploadAsync("mislabelled.tar", archive);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>400 with an error at <paramref name="location"/> whose text holds the kind and every fragment; nothing kept.</summary>
    private async Task AssertRefusedAsync(HttpResponseMessage response, string location, string kind, params string[] fragments)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        var errors = JsonNode.Parse(text)!["errors"]!.AsObject();
        var messages = errors.Where(e => e.Key.EndsWith(location, StringComparison.Ordinal)).SelectMany(e => e.Value!.AsArray()).Select(m => m!.GetValue<string>()).ToList();
        Assert.True(messages.Any(m => m.StartsWith(kind + ":", StringComparison.Ordinal) && fragments.All(f => m.Contains(f, StringComparison.Ordinal))),
            $"no {kind} error at {location} mentioning {string.Join(", ", fragments)}: {text}");
        await AssertNoDatasetStoredAsync();
    }

    /// <summary>413 ProblemDetails naming the limit and its setting, and how it was found (declared length or counted bytes).</summary>
    private static async Task AssertTooLargeAsync(HttpResponseMessage response, long limit, string setting, string how)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonNode.Parse(text)!["detail"]!.GetValue<string>();
        Assert.Contains($"at most {limit} bytes ({setting})", detail);
        Assert.Contains(how, detail);
    }

    private async Task AssertNoDatasetStoredAsync()
    {
        Assert.Empty((await ServiceStack.ReadJsonAsync(await client.GetAsync("/v1/datasets")))["data"]!.AsArray());
        Assert.True(DatasetFiles().SequenceEqual(datasetFilesBefore), "the refused upload left files behind");
    }

    private Task<HttpResponseMessage> UploadAsync(string filename, byte[] bytes, bool declaredLength = true) =>
        client.PostAsync($"/v1/datasets/upload?filename={Uri.EscapeDataString(filename)}", Body(bytes, "application/octet-stream", declaredLength));

    /// <summary>The body with a Content-Length, or streamed without one (chunked), as a client that does not know its size sends it.</summary>
    private static HttpContent Body(byte[] bytes, string mediaType, bool declaredLength)
    {
        HttpContent content = declaredLength ? new ByteArrayContent(bytes) : new UnknownLengthContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    private sealed class UnknownLengthContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
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
            Add(tar, "manifest.jsonl", TestArchives.Manifest("a.png"));
            var png = TestArchives.Png();
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
}
