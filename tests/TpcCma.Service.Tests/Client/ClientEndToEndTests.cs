using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TpcCma.Cli;
using TpcCma.Cli.Commands.Client;
using TpcCma.Service.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TpcCma.Service.Tests.Client;

/// <summary>
/// The <c>tpccma</c> client run in-process, as a pipeline would run it, against a live deployment with a worker:
/// exit codes for success, invalid requests and cancellation, and resumable, verified downloads.
/// </summary>
[TakesAbout(seconds: 45)]
public sealed class ClientEndToEndTests : IClassFixture<LiveDeployment>, IDisposable
{
    private readonly LiveDeployment deployment;
    private readonly ITestOutputHelper log;
    private readonly StringWriter captured = new();
    private readonly TextWriter writer;

    public ClientEndToEndTests(LiveDeployment deployment, ITestOutputHelper log)
    {
        this.deployment = deployment;
        this.log = log;
        // The commands print to the writers they are given; calls may overlap (a wait and a cancel), so the writer is synchronised.
        writer = TextWriter.Synchronized(captured);
        JobWaiter.PollInterval = TimeSpan.FromMilliseconds(250);
    }

    public void Dispose()
    {
        log.WriteLine(captured.ToString());
    }

    private string Output { get { lock (captured) return captured.ToString(); } }

    private Task<int> Tpccma(params string[] args) =>
        CliApp.RunAsync([.. args, "--url", deployment.Api.BaseUrl, "--key", deployment.Key], writer, writer);

    private string JobFile(string name, object spec)
    {
        var path = Path.Combine(deployment.WorkFolder, name + ".json");
        File.WriteAllText(path, deployment.JobRequest(name, spec).ToJsonString());
        return path;
    }

    [Fact]
    public async Task SubmitWait_ExitsZero_AndDownloadResumesToTheServersBytes()
    {
        var file = JobFile("cli-good", new { kind = "align", alpha_target = 0.5, steps = 20, batch_size = 16, lr = 1e-4, checkpoint_every = 10, log_every = 1, seed = 2, eval = new { enabled = false } });
        Assert.Equal(ExitCodes.Ok, await Tpccma("jobs", "submit", file, "--wait", "--follow", "--timeout", "180"));
        Assert.Contains("[phase]", Output);   // --follow printed the timeline

        var job = (await ServiceStack.ReadJsonAsync(await deployment.Http.GetAsync("/v1/jobs?search=cli-good")))["data"]![0]!;
        var id = job["id"]!.GetValue<string>();
        Assert.Equal("succeeded", job["status"]!.GetValue<string>());
        var server = await deployment.Http.GetAsync($"/v1/jobs/{id}/checkpoints/latest/download?format=openclip");
        var expected = await server.Content.ReadAsByteArrayAsync();
        var etag = server.Headers.ETag!.Tag.Trim('"');

        // An interrupted first attempt left a third of the file and its ETag: the client asks for the rest only.
        var target = Path.Combine(deployment.WorkFolder, "model.safetensors");
        await File.WriteAllBytesAsync(target + ".part", expected[..(expected.Length / 3)]);
        await File.WriteAllTextAsync(target + ".part.etag", etag);
        Assert.Equal(ExitCodes.Ok, await Tpccma("checkpoints", "download", id, "--step", "latest", "--format", "openclip", "--out", target));
        Assert.Contains($"resuming at byte {expected.Length / 3} of {expected.Length}", Output);
        Assert.Equal(expected, await File.ReadAllBytesAsync(target));
        Assert.False(File.Exists(target + ".part") || File.Exists(target + ".part.etag"), "the part file and its ETag are removed");

        // A part file whose bytes are wrong (and whose ETag was lost) fails verification and is downloaded again whole.
        var corrupt = Path.Combine(deployment.WorkFolder, "corrupt.safetensors");
        await File.WriteAllBytesAsync(corrupt + ".part", Encoding.ASCII.GetBytes(new string('x', 4096)));
        Assert.Equal(ExitCodes.Ok, await Tpccma("checkpoints", "download", id, "--out", corrupt));
        Assert.Contains("did not match; downloading again", Output);
        Assert.Equal(expected, await File.ReadAllBytesAsync(corrupt));

        // The Hugging Face export is verified against its own ETag.
        var hf = Path.Combine(deployment.WorkFolder, "model-hf.tar");
        Assert.Equal(ExitCodes.Ok, await Tpccma("checkpoints", "download", id, "--format", "hf", "--out", hf));
        var hfServer = await deployment.Http.GetAsync($"/v1/jobs/{id}/checkpoints/latest/download?format=hf");
        Assert.Equal(hfServer.Headers.ETag!.Tag.Trim('"'), Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(hf))));
    }

    [Fact]
    public async Task Submit_ExitsTwo_AndPrintsEachInvalidField_ForAnInvalidSpec()
    {
        var file = JobFile("cli-invalid", new { kind = "align", alpha_target = 1.5, steps = -3, batch_size = 16 });
        Assert.Equal(ExitCodes.InvalidRequest, await Tpccma("jobs", "submit", file, "--wait"));
        Assert.Contains("400", Output);
        Assert.Contains("spec.alpha_target:", Output);
        Assert.Contains("spec.steps:", Output);

        Assert.Equal(ExitCodes.InvalidRequest, await Tpccma("jobs", "get", Guid.NewGuid().ToString()));
        Assert.Equal(ExitCodes.InvalidRequest, await Tpccma("jobs", "submit", Path.Combine(deployment.WorkFolder, "missing.json")));
        Assert.Equal(ExitCodes.InvalidRequest, await Tpccma("checkpoints", "download", Guid.NewGuid().ToString(), "--format", "onnx", "--out", "x"));
        Assert.Equal(ExitCodes.InvalidRequest, await Tpccma("jobs", "list", "--colour", "red"));
    }

    [Fact]
    public async Task SubmitWait_ExitsThree_WhenAnotherCallCancelsTheJob_AndWaitTimesOutWithFour()
    {
        var file = JobFile("cli-cancelled", new { kind = "align", alpha_target = 0.5, steps = 2000, batch_size = 16, checkpoint_every = 1000, log_every = 1, seed = 3, eval = new { enabled = false } });
        var waiting = Tpccma("jobs", "submit", file, "--wait");

        string? id = null;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (id is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the job never started running");
            var jobs = (await ServiceStack.ReadJsonAsync(await deployment.Http.GetAsync("/v1/jobs?search=cli-cancelled&status=running")))["data"]!.AsArray();
            if (jobs.FirstOrDefault() is { } running && running["step"]!.GetValue<long>() > 0) id = running["id"]!.GetValue<string>();
            else await Task.Delay(250);
        }
        Assert.False(waiting.IsCompleted);
        Assert.Equal(ExitCodes.TimedOut, await Tpccma("jobs", "wait", id, "--timeout", "1"));
        Assert.Equal(ExitCodes.Ok, await Tpccma("jobs", "cancel", id, "--output", "json"));
        Assert.Equal(ExitCodes.Cancelled, await waiting.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task SweepsResults_WritesTheResultsFile_OfAFinishedSweep()
    {
        var response = await deployment.Http.PostAsJsonAsync("/v1/sweeps", new
        {
            name = "cli-sweep", base_model = deployment.Model, dataset = deployment.Dataset, alpha_targets = new[] { 0.3 }, seeds = new[] { 7L, 8L },
            spec = new { steps = 4, batch_size = 16, lr = 1e-4, log_every = 2, eval = new { captioning_steps = 5, captioning_seeds = 1, train_sample = 0, at_phase_boundaries = false } },
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var sweep = await ServiceStack.ReadJsonAsync(response);
        foreach (var job in sweep["jobs"]!.AsArray())
            await ServiceStack.WaitForStatusAsync(deployment.Http, job!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(300), "succeeded");
        var target = Path.Combine(deployment.WorkFolder, "results", "cli-sweep.json");

        Assert.Equal(ExitCodes.Ok, await Tpccma("sweeps", "results", sweep["id"]!.GetValue<string>(), "--out", target));

        var results = JsonNode.Parse(File.ReadAllText(target))!;
        Assert.Equal([7L, 8L], results["seeds"]!.AsArray().Select(s => s!.GetValue<long>()));
        var rows = results["splits"]!["test"]!["rows"]!.AsArray();
        Assert.Equal(["base", "base_centered", "base_centered_noise", "base", "base_centered", "base_centered_noise", "align", "align"], rows.Select(r => r!["model"]!.GetValue<string>()));
        Assert.Equal(ExitCodes.InvalidRequest, await Tpccma("sweeps", "results", sweep["id"]!.GetValue<string>(), "--out", deployment.WorkFolder));
        Assert.Contains("is a folder", Output);
    }
}
