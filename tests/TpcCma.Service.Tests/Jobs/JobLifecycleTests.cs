using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TpcCma.Service.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>Real jobs, run by worker processes separate from the API, over the real PostgreSQL.</summary>
public sealed class JobLifecycleTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ServiceStack stack = new();
    private HttpClient client = null!;
    private string dataset = "";
    private string model = "";

    public async Task InitializeAsync()
    {
        await stack.InitializeAsync();
        (client, dataset, model) = await stack.CreateUserWorkspaceAsync("lifecycle", shapes: 80);
    }

    public Task DisposeAsync() => stack.DisposeAsync();

    private async Task<string> SubmitAsync(int steps, int checkpointEvery = 10, string name = "tiny-align", bool evaluate = false)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            name, base_model = model, dataset,
            spec = new
            {
                kind = "align", alpha_target = 0.5, steps, batch_size = 16, lr = 1e-4, checkpoint_every = checkpointEvery, log_every = 1, seed = 11,
                eval = new { enabled = evaluate, captioning_steps = 20, train_sample = 0, at_phase_boundaries = false },
            },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ServiceStack.ReadJsonAsync(response))["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task AlignJob_OnSeparateWorker_SucceedsWithPhasesMetricsAndDownloadableCheckpoint()
    {
        var worker = await stack.StartWorkerAsync("node-a");
        var started = DateTime.UtcNow;
        var id = await SubmitAsync(steps: 40, evaluate: true);
        var job = await ServiceStack.WaitForStatusAsync(client, id, TimeSpan.FromSeconds(240), "succeeded", "failed");
        output.WriteLine($"queued -> {job["status"]} in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal(40, job["step"]!.GetValue<long>());

        var events = (await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{id}/events")))["data"]!.AsArray();
        var statuses = events.Where(e => e!["kind"]!.GetValue<string>() == "status").Select(e => e!["message"]!.GetValue<string>().Split(' ')[0]).ToList();
        Assert.Equal(["queued", "running", "succeeded"], statuses);
        var phases = events.Where(e => e!["kind"]!.GetValue<string>() == "phase").Select(e => e!["data"]!["to"]!.GetValue<string>()).ToList();
        Assert.Equal(["ramp", "consolidate"], phases);
        var evaluations = events.Where(e => e!["kind"]!.GetValue<string>() == "evaluation").Select(e => e!["data"]!["label"]!.GetValue<string>()).ToList();
        Assert.Equal(["base", "base_centered", "base_centered_noise", "final"], evaluations);
        var reports = job["result"]!["evaluations"]!.AsArray();
        Assert.Equal(4, reports.Count);   // base, base_centered, base_centered_noise, final
        double RawGap(int i) => reports[i]!["report"]!["gaps"]!["raw"]!.GetValue<double>();
        Assert.True(RawGap(3) < RawGap(0), "alignment should shrink the raw gap");

        var metrics = (await client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/metrics?names=loss,alpha"))!;
        var loss = metrics.Single(m => m!["name"]!.GetValue<string>() == "loss")!;
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), loss["steps"]!.AsArray().Select(s => s!.GetValue<long>()));
        var alpha = metrics.Single(m => m!["name"]!.GetValue<string>() == "alpha")!["values"]!.AsArray().Select(v => v!.GetValue<double>()).ToList();
        Assert.Equal(0, alpha[0]);
        Assert.Equal(0.5, alpha[^1], 9);

        var checkpoints = (await client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!;
        Assert.Contains(checkpoints, c => c!["step"]!.GetValue<long>() == 40);
        var download = await client.GetAsync($"/v1/jobs/{id}/checkpoints/latest/download?format=openclip");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"", download.Headers.ETag!.Tag);

        // A range request resumes a download.
        using var partial = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/checkpoints/latest/download?format=openclip");
        partial.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, null);
        var rest = await client.SendAsync(partial);
        Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
        Assert.Equal(bytes[1000..], await rest.Content.ReadAsByteArrayAsync());

        // Both download formats, loaded the way a user loads them, embed the held-out pairs as the job's final model did.
        var fingerprint = FinalEmbeddings.Of(job);
        Assert.Equal(4, fingerprint.SampleIds.Count);
        var datasetFolder = Path.Combine(stack.DataRoot, "datasets", Guid.Parse(dataset).ToString("N"));
        var openclip = Path.Combine(Directory.CreateTempSubdirectory("tpccma-openclip-download-").FullName, "model.safetensors");
        await File.WriteAllBytesAsync(openclip, bytes);
        var hf = FinalEmbeddings.ExtractHfTar(await Operations.OperationPolling.DownloadHfAsync(client, id));
        var fromOpenClip = FinalEmbeddings.MaxDifference(fingerprint, datasetFolder, openclip, tokenizer: hf);
        var fromHf = FinalEmbeddings.MaxDifference(fingerprint, datasetFolder, hf);
        output.WriteLine($"final embeddings reproduced: max |diff| {fromOpenClip:E1} (openclip), {fromHf:E1} (hf)");
        Assert.True(fromOpenClip < 1e-5 && fromHf < 1e-5, $"downloaded checkpoint embeds differently: {fromOpenClip}, {fromHf}");
        var fromBase = FinalEmbeddings.MaxDifference(fingerprint, datasetFolder, Path.Combine(stack.DataRoot, "clip-tiny-hf"));
        Assert.True(fromBase > 1e-4, $"the untrained base model should not reproduce the final embeddings (max |diff| {fromBase})");

        // The finished job registered its model, which can be the base of another job.
        var models = (await ServiceStack.ReadJsonAsync(await client.GetAsync("/v1/models")))["data"]!.AsArray();
        Assert.Contains(models, m => m!["job"]?.GetValue<string>() == id);

        // Operators see the job in Prometheus metrics and in structured logs that carry its id.
        using var http = new HttpClient();
        var workerMetrics = await http.GetStringAsync(worker.BaseUrl + "/metrics");
        Assert.Contains(workerMetrics.Split('\n'), l => l.StartsWith("tpccma_jobs_finished_total{", StringComparison.Ordinal) && l.Contains("status=\"succeeded\"") && l.EndsWith(" 1"));
        Assert.Contains(workerMetrics.Split('\n'), l => l.StartsWith("tpccma_training_steps_total", StringComparison.Ordinal) && double.Parse(l.Split(" ")[^1], System.Globalization.CultureInfo.InvariantCulture) >= 39);
        var apiMetrics = await client.GetStringAsync("/metrics");
        Assert.Contains("tpccma_jobs_submitted_total{", apiMetrics);
        Assert.Contains("http_server_request_duration_seconds_bucket{", apiMetrics);
        var jobLines = StructuredLog.LinesWithScope(worker.Output, "JobId", id);
        Assert.Contains(jobLines, l => l["Message"]!.GetValue<string>().Contains("succeeded"));
    }

    [Fact]
    public async Task CancelRunningJob_StopsLongBeforeTheEnd_AndCheckpointsTheStepItStoppedAt()
    {
        await stack.StartWorkerAsync("node-a");
        var id = await SubmitAsync(steps: 5000, checkpointEvery: 1000);
        await WaitForStepAsync(id, 5);
        var cancel = await client.PostAsync($"/v1/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var job = await ServiceStack.WaitForStatusAsync(client, id, TimeSpan.FromSeconds(30), "cancelled", "failed", "succeeded");
        Assert.Equal("cancelled", job["status"]!.GetValue<string>());
        // No scheduled checkpoint falls before step 1000: the one kept was written by the cancellation, at the
        // step the run stopped at.
        var stoppedAt = job["step"]!.GetValue<long>();
        Assert.InRange(stoppedAt, 5, 999);
        var checkpoints = (await client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!;
        Assert.Contains(checkpoints, c => c!["step"]!.GetValue<long>() == stoppedAt);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/v1/jobs/{id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task WorkerKilledMidRun_JobResumesOnAnotherWorker_WithContiguousMetrics()
    {
        var first = await stack.StartWorkerAsync("node-a");
        var id = await SubmitAsync(steps: 120, checkpointEvery: 20);
        await WaitForStepAsync(id, 45);
        first.Kill();   // SIGKILL: no checkpoint on the way out, no lease release
        await stack.StartWorkerAsync("node-b");
        var job = await ServiceStack.WaitForStatusAsync(client, id, TimeSpan.FromSeconds(300), "succeeded", "failed");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.True(job["attempts"]!.GetValue<int>() >= 2);

        var loss = (await client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/metrics?names=loss"))!.Single()!;
        Assert.Equal(Enumerable.Range(1, 120).Select(i => (long)i), loss["steps"]!.AsArray().Select(s => s!.GetValue<long>()));
        var events = (await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{id}/events")))["data"]!.AsArray();
        Assert.Contains(events, e => e!["kind"]!.GetValue<string>() == "resumed");
    }

    private async Task WaitForStepAsync(string id, long step)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (DateTime.UtcNow < deadline)
        {
            var job = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{id}"));
            if (job["step"]!.GetValue<long>() >= step) return;
            Assert.DoesNotContain(job["status"]!.GetValue<string>(), new[] { "failed", "succeeded", "cancelled" });
            await Task.Delay(100);
        }
        throw new TimeoutException($"job {id} did not reach step {step}");
    }
}
