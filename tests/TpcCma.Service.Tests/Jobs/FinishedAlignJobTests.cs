using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>What one finished align job (<see cref="FinishedAlignJob"/>, run once for the class) shows: one behaviour a test.</summary>
public sealed class FinishedAlignJobTests(FinishedAlignJob run, ITestOutputHelper output) : IClassFixture<FinishedAlignJob>
{
    private HttpClient Client => run.Client;
    private string OpenClipDownload => $"/v1/jobs/{run.Id}/checkpoints/latest/download?format=openclip";

    [Fact]
    public void AlignJob_OnSeparateWorker_SucceedsAtItsLastStep()
    {
        output.WriteLine($"queued -> {run.Job["status"]} in {run.QueuedToEnd.TotalSeconds:F1} s");
        Assert.True(run.Job["status"]!.GetValue<string>() == "succeeded", run.Job.ToJsonString());
        Assert.Equal(FinishedAlignJob.Steps, run.Job["step"]!.GetValue<long>());
    }

    [Fact]
    public async Task Events_StatusTimeline_IsQueuedRunningSucceeded() =>
        Assert.Equal(["queued", "running", "succeeded"], (await run.EventsOfKindAsync("status", e => e["message"])).Select(m => m.Split(' ')[0]));

    [Fact]
    public async Task Events_Phases_AreRampThenConsolidate() =>
        Assert.Equal(["ramp", "consolidate"], await run.EventsOfKindAsync("phase", e => e["data"]!["to"]));

    [Fact]
    public async Task Evaluations_OfTheBaseItsBaselinesAndTheFinalModel_AreEventsAndResults()
    {
        string[] labels = ["base", "base_centered", "base_centered_noise", "final"];
        Assert.Equal(labels, await run.EventsOfKindAsync("evaluation", e => e["data"]!["label"]));
        Assert.Equal(labels.Length, run.Job["result"]!["evaluations"]!.AsArray().Count);
    }

    [Fact]
    public void FinalEvaluation_HasASmallerRawGapThanTheBase()
    {
        var reports = run.Job["result"]!["evaluations"]!.AsArray();
        double RawGap(int i) => reports[i]!["report"]!["gaps"]!["raw"]!.GetValue<double>();
        Assert.True(RawGap(3) < RawGap(0), $"alignment should shrink the raw gap: base {RawGap(0)}, final {RawGap(3)}");
    }

    [Fact]
    public async Task Metrics_HaveALossForEveryStep_AndAlphaRisesFromZeroToTheTarget()
    {
        var metrics = (await Client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{run.Id}/metrics?names=loss,alpha"))!;
        var loss = metrics.Single(m => m!["name"]!.GetValue<string>() == "loss")!;
        Assert.Equal(Enumerable.Range(1, FinishedAlignJob.Steps).Select(i => (long)i), loss["steps"]!.AsArray().Select(s => s!.GetValue<long>()));
        var alpha = metrics.Single(m => m!["name"]!.GetValue<string>() == "alpha")!["values"]!.AsArray().Select(v => v!.GetValue<double>()).ToList();
        Assert.Equal(0, alpha[0]);
        Assert.Equal(0.5, alpha[^1], 9);
    }

    [Fact]
    public async Task Checkpoints_IncludeTheLastStep()
    {
        var checkpoints = (await Client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{run.Id}/checkpoints"))!;
        Assert.Contains(checkpoints, c => c!["step"]!.GetValue<long>() == FinishedAlignJob.Steps);
    }

    [Fact]
    public async Task CheckpointDownload_CarriesTheSha256OfItsBytesAsETag()
    {
        var download = await Client.GetAsync(OpenClipDownload);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"", download.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task CheckpointDownload_WithARange_ResumesWithTheRestOfTheBytes()
    {
        var bytes = await Client.GetByteArrayAsync(OpenClipDownload);
        using var partial = new HttpRequestMessage(HttpMethod.Get, OpenClipDownload);
        partial.Headers.Range = new RangeHeaderValue(1000, null);
        var rest = await Client.SendAsync(partial);
        Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
        Assert.Equal(bytes[1000..], await rest.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task DownloadedCheckpoints_InBothFormats_EmbedTheHeldOutPairsAsTheFinalModelDid()
    {
        var fingerprint = FinalEmbeddings.Of(run.Job);
        Assert.Equal(4, fingerprint.SampleIds.Count);
        var openclip = Path.Combine(Directory.CreateTempSubdirectory("tpccma-openclip-download-").FullName, "model.safetensors");
        await File.WriteAllBytesAsync(openclip, await Client.GetByteArrayAsync(OpenClipDownload));
        var hf = FinalEmbeddings.ExtractHfTar(await Operations.OperationPolling.DownloadHfAsync(Client, run.Id));
        // Loaded the way a user loads them: the openclip weights with the tokenizer the HF export brings.
        var fromOpenClip = FinalEmbeddings.MaxDifference(fingerprint, run.DatasetFolder, openclip, tokenizer: hf);
        var fromHf = FinalEmbeddings.MaxDifference(fingerprint, run.DatasetFolder, hf);
        output.WriteLine($"final embeddings reproduced: max |diff| {fromOpenClip:E1} (openclip), {fromHf:E1} (hf)");
        Assert.True(fromOpenClip < 1e-5 && fromHf < 1e-5, $"downloaded checkpoint embeds differently: {fromOpenClip}, {fromHf}");
    }

    [Fact]
    public void FinalEmbeddings_AreNotReproducedByTheUntrainedBase()
    {
        // The check above is only worth something if training moved the embeddings more than its tolerance.
        var fromBase = FinalEmbeddings.MaxDifference(FinalEmbeddings.Of(run.Job), run.DatasetFolder, Path.Combine(run.Stack.DataRoot, "clip-tiny-hf"));
        Assert.True(fromBase > 1e-4, $"the untrained base model should not reproduce the final embeddings (max |diff| {fromBase})");
    }

    [Fact]
    public async Task FinishedJob_RegistersItsModel()
    {
        var models = (await ServiceStack.ReadJsonAsync(await Client.GetAsync("/v1/models")))["data"]!.AsArray();
        Assert.Contains(models, m => m!["job"]?.GetValue<string>() == run.Id);
    }

    [Fact]
    public async Task WorkerMetrics_CountTheSucceededJobAndItsSteps()
    {
        using var http = new HttpClient();
        var lines = (await http.GetStringAsync(run.Worker.BaseUrl + "/metrics")).Split('\n');
        Assert.Contains(lines, l => l.StartsWith("tpccma_jobs_finished_total{", StringComparison.Ordinal) && l.Contains("status=\"succeeded\"") && l.EndsWith(" 1"));
        Assert.Contains(lines, l => l.StartsWith("tpccma_training_steps_total", StringComparison.Ordinal)
            && double.Parse(l.Split(" ")[^1], CultureInfo.InvariantCulture) >= FinishedAlignJob.Steps - 1);
    }

    [Fact]
    public async Task ApiMetrics_CountSubmissionsAndRequestDurations()
    {
        var metrics = await Client.GetStringAsync("/metrics");
        Assert.Contains("tpccma_jobs_submitted_total{", metrics);
        Assert.Contains("http_server_request_duration_seconds_bucket{", metrics);
    }

    [Fact]
    public void WorkerLog_SaysTheJobSucceeded_InLinesCarryingItsId() =>
        Assert.Contains(StructuredLog.LinesWithScope(run.Worker.Output, "JobId", run.Id), l => l["Message"]!.GetValue<string>().Contains("succeeded"));
}
