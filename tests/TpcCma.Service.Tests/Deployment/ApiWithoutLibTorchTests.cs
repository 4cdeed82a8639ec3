using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TpcCma.Service.Hosting;
using TpcCma.Service.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TpcCma.Service.Tests.Deployment;

/// <summary>
/// The API image ships without TorchSharp's native libraries (Dockerfile target api, TorchBackend=none). An API process
/// started from the build output minus those libraries serves a user's whole journey while a normal worker process
/// trains; at the end libtorch was never mapped into the API process. A worker started from the same files refuses to
/// start, naming the image to use.
/// </summary>
[TakesAbout(seconds: 105)]
public sealed class ApiWithoutLibTorchTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] TorchLibraryPrefixes = ["libtorch", "libLibTorchSharp", "libc10", "libgomp", "libshm"];
    private readonly ServiceStack stack = new();
    private TorchFreeBuild build = null!;
    private TorchFreeProcess? api;

    public async Task InitializeAsync()
    {
        await stack.InitializeAsync();   // migrations, the admin key and Hangfire's schema, by the in-process API
        build = TorchFreeBuild.Create();
    }

    public async Task DisposeAsync()
    {
        if (api is not null)
        {
            output.WriteLine($"--- API without libtorch\n{api.Output[Math.Max(0, api.Output.Length - 6000)..]}");
            await api.DisposeAsync();
        }
        await stack.DisposeAsync();
        build.Dispose();
    }

    private Dictionary<string, string> ApiSettings() => new()
    {
        ["ConnectionStrings:Jobs"] = stack.ConnectionString, ["Service:ArtifactRoot"] = stack.ArtifactRoot, ["Service:DataRoot"] = stack.DataRoot,
        ["Auth:AdminKey"] = ServiceStack.AdminKey, ["Auth:KeyCacheSeconds"] = "1",
    };

    [Fact]
    public void TorchFreeBuild_HasNoTorchNativeLibrary_AndItsDepsFileNamesNone()
    {
        Assert.Contains(build.Removed, r => r.EndsWith("/libLibTorchSharp.so", StringComparison.Ordinal));
        Assert.Contains(build.Removed, r => r.EndsWith("/libtorch_cpu.so", StringComparison.Ordinal));
        var left = Directory.EnumerateFiles(build.Directory, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.DoesNotContain(left, f => TorchLibraryPrefixes.Any(p => f!.StartsWith(p, StringComparison.Ordinal)));
        Assert.Contains("TorchSharp.dll", left);   // the managed assembly stays: the API names its types, never calls them
        var deps = File.ReadAllText(Path.Combine(build.Directory, "TpcCma.Service.deps.json"));
        Assert.DoesNotContain("libtorch_cpu.so", deps);
        Assert.DoesNotContain("libLibTorchSharp", deps);
    }

    [Fact]
    public async Task Worker_FromTheApiBuild_RefusesToStart_NamingTheWorkerImage()
    {
        await using var worker = await TorchFreeProcess.StartAsync(build, "worker", ApiSettings(), waitHealthy: false);
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(90)), "a worker without libtorch kept running:\n" + worker.Output);
        Assert.NotEqual(0, worker.ExitCode);
        Assert.Contains("needs libtorch", worker.Output);
        Assert.Contains(NativeTorch.MissingExplanation, worker.Output);
    }

    [Fact]
    public async Task ApiWithoutLibTorch_ServesTheWholeJourney_WhileAWorkerTrains()
    {
        api = await TorchFreeProcess.StartAsync(build, "api", ApiSettings());
        Assert.Contains($"Content root path: {build.Directory}", api.Output);   // the copy, not the test's own output
        await stack.StartWorkerAsync("node-a");
        using var admin = Client(ServiceStack.AdminKey);

        // Keys.
        var keyResponse = await admin.PostAsJsonAsync("/v1/keys", new { name = "no-libtorch" });
        Assert.Equal(HttpStatusCode.Created, keyResponse.StatusCode);
        var userKey = (await ServiceStack.ReadJsonAsync(keyResponse))["token"]!.GetValue<string>();
        using var user = Client(userKey);
        Assert.Contains((await admin.GetFromJsonAsync<JsonArray>("/v1/keys"))!, k => k!["name"]!.GetValue<string>() == "no-libtorch");

        // A data set, built by the API.
        var datasetResponse = await user.PostAsJsonAsync("/v1/datasets", new { name = "shapes", builtin = new { kind = "synthetic-shapes", count = 64, size = 32, seed = 3 } });
        Assert.True(datasetResponse.IsSuccessStatusCode, await datasetResponse.Content.ReadAsStringAsync());
        var dataset = (await ServiceStack.ReadJsonAsync(datasetResponse))["id"]!.GetValue<string>();
        Assert.Contains((await ServiceStack.ReadJsonAsync(await user.GetAsync("/v1/datasets")))["data"]!.AsArray(), d => d!["id"]!.GetValue<string>() == dataset);

        // Models: a folder under the data root is checked by loading it, which this API cannot: a worker does it (202 and
        // a model-import operation). A preset needs no loading and is registered at once.
        var folder = Path.Combine(stack.DataRoot, "clip-tiny-hf");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(TestPaths.RefData("clip-tiny", "hf"))) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)), overwrite: true);
        var import = await user.PostAsJsonAsync("/v1/models", new { name = "clip-tiny", reference = "clip-tiny-hf" });
        Assert.True(import.StatusCode == HttpStatusCode.Accepted, await import.Content.ReadAsStringAsync());
        var imported = await Operations.OperationPolling.WaitAsync(user, (await ServiceStack.ReadJsonAsync(import))["id"]!.GetValue<string>(), TimeSpan.FromSeconds(180));
        Assert.True(imported["state"]!.GetValue<string>() == "succeeded", imported.ToJsonString());
        var model = imported["result"]!["model"]!.GetValue<string>();
        var registered = await ServiceStack.ReadJsonAsync(await user.GetAsync($"/v1/models/{model}"));
        Assert.Equal(("import", "clip-tiny-hf"), (registered["source"]!.GetValue<string>(), registered["reference"]!.GetValue<string>()));
        var preset = await user.PostAsJsonAsync("/v1/models", new { name = "tiny", reference = "preset:tiny" });
        Assert.True(preset.StatusCode == HttpStatusCode.Created, await preset.Content.ReadAsStringAsync());

        // A job, followed on the progress stream until it ends.
        var submit = await user.PostAsJsonAsync("/v1/jobs", new
        {
            name = "no-libtorch", base_model = model, dataset,
            spec = new
            {
                kind = "align", alpha_target = 0.5, steps = 12, batch_size = 16, lr = 1e-4, checkpoint_every = 6, log_every = 1, seed = 11,
                eval = new { enabled = true, captioning_steps = 10, train_sample = 0, at_phase_boundaries = false },
            },
        });
        Assert.True(submit.StatusCode == HttpStatusCode.Created, await submit.Content.ReadAsStringAsync());
        var id = (await ServiceStack.ReadJsonAsync(submit))["id"]!.GetValue<string>();
        var stream = ReadStreamAsync(user, id);
        var job = await ServiceStack.WaitForStatusAsync(user, id, TimeSpan.FromSeconds(300), "succeeded", "failed", "cancelled");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal(12, job["step"]!.GetValue<long>());
        var streamed = await stream.WaitAsync(TimeSpan.FromSeconds(60));   // the stream ends when the job has ended
        Assert.Contains("job", streamed);
        Assert.Contains("event", streamed);
        Assert.Contains("metrics", streamed);

        // Lists, events and metrics.
        Assert.Contains((await ServiceStack.ReadJsonAsync(await user.GetAsync("/v1/jobs")))["data"]!.AsArray(), j => j!["id"]!.GetValue<string>() == id);
        var events = (await ServiceStack.ReadJsonAsync(await user.GetAsync($"/v1/jobs/{id}/events")))["data"]!.AsArray();
        Assert.Contains(events, e => e!["kind"]!.GetValue<string>() == "evaluation");
        var loss = (await user.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/metrics?names=loss"))!.Single()!;
        Assert.Equal(12, loss["steps"]!.AsArray().Count);

        // Plots, including the embedding maps the evaluations carry.
        foreach (var plot in new[] { "losses", "alpha", "gaps", "embeddings" }) await AssertPngAsync(user, $"/v1/jobs/{id}/plots/{plot}.png");

        // The checkpoint in the native (OpenCLIP safetensors) format, whole and by range.
        var checkpoints = (await user.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!;
        Assert.Contains(checkpoints, c => c!["step"]!.GetValue<long>() == 12);
        var download = await user.GetAsync($"/v1/jobs/{id}/checkpoints/latest/download?format=openclip");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"", download.Headers.ETag!.Tag);
        using (var partial = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/checkpoints/latest/download?format=openclip"))
        {
            partial.Headers.Range = new RangeHeaderValue(100, null);
            var rest = await user.SendAsync(partial);
            Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
            Assert.Equal(bytes[100..], await rest.Content.ReadAsByteArrayAsync());
        }
        // The Hugging Face export: converted by a worker on the first request (202, an operation), then streamed.
        var hf = Jobs.FinalEmbeddings.ExtractHfTar(await Operations.OperationPolling.DownloadHfAsync(user, id));
        Assert.True(File.Exists(Path.Combine(hf, "config.json")), $"no config.json in the HF export at {hf}");

        // A sweep: its jobs run on the worker, its report (fits, intervals) is computed by the API.
        var sweepResponse = await user.PostAsJsonAsync("/v1/sweeps", new
        {
            name = "no-libtorch-sweep", base_model = model, dataset, alpha_targets = new[] { 0.0, 0.6 }, seeds = new[] { 5L },
            spec = new { steps = 6, batch_size = 16, lr = 1e-4, log_every = 3, eval = new { captioning_steps = 5, captioning_seeds = 1, train_sample = 0, at_phase_boundaries = false } },
        });
        Assert.True(sweepResponse.StatusCode == HttpStatusCode.Created, await sweepResponse.Content.ReadAsStringAsync());
        var sweep = await ServiceStack.ReadJsonAsync(sweepResponse);
        foreach (var sweepJob in sweep["jobs"]!.AsArray())
        {
            var done = await ServiceStack.WaitForStatusAsync(user, sweepJob!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(300), "succeeded", "failed", "cancelled");
            Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString());
        }
        var sweepGet = await user.GetAsync($"/v1/sweeps/{sweep["id"]}");
        Assert.True(sweepGet.IsSuccessStatusCode, await sweepGet.Content.ReadAsStringAsync());
        var report = (await ServiceStack.ReadJsonAsync(sweepGet))["report"]!.AsArray();
        Assert.Contains(report, t => t!["split"]!.GetValue<string>() == "test" && t["rows"]!.AsArray().Count > 0);
        Assert.Contains((await ServiceStack.ReadJsonAsync(await user.GetAsync("/v1/sweeps")))["data"]!.AsArray(), s => s!["id"]!.GetValue<string>() == sweep["id"]!.GetValue<string>());
        Assert.True((await user.GetAsync($"/v1/sweeps/{sweep["id"]}/results.json")).IsSuccessStatusCode);

        // The dashboard: its page, its assets and its sign-in.
        var page = await user.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        using var browser = new HttpClient { BaseAddress = new Uri(api.BaseUrl) };
        Assert.Equal(HttpStatusCode.NoContent, (await browser.PostAsJsonAsync("/ui/session", new { key = userKey })).StatusCode);

        // Nothing above brought libtorch into the API process, from its folder or from anywhere else.
        var mapped = api.MappedLibraries();
        Assert.DoesNotContain(mapped, l => TorchLibraryPrefixes.Any(p => l.StartsWith(p, StringComparison.Ordinal)));
        Assert.DoesNotContain("TypeInitializationException", api.Output);
        Assert.False(api.HasExited);
    }

    private HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(api!.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>The names of the server-sent events of a job's stream, read until the server ends it.</summary>
    private static async Task<HashSet<string>> ReadStreamAsync(HttpClient client, string id)
    {
        var names = new HashSet<string>();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/stream");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
            if (line.StartsWith("event:", StringComparison.Ordinal)) names.Add(line["event:".Length..].Trim());
        return names;
    }

    private static async Task AssertPngAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
    }
}
