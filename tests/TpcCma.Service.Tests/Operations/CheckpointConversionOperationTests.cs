using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using TpcCma.Service.Tests.Infrastructure;
using TpcCma.Service.Tests.Jobs;

namespace TpcCma.Service.Tests.Operations;

/// <summary>
/// The Hugging Face export of a checkpoint is converted by a worker process, not by the API: the first download
/// request answers 202 with a <c>checkpoint-conversion</c> operation (the same one on repeated requests), and once it
/// has succeeded the same request streams the converted tar.
/// </summary>
public sealed class CheckpointConversionOperationTests() : UserDeploymentTests(new UserDeployment("converter", shapes: 48))
{
    [Fact]
    public async Task HfDownload_Answers202WithOneSharedOperation_ThenStreamsTheConvertedTar()
    {
        await Stack.StartWorkerAsync("node-ops");
        var (client, dataset, model) = (Client, Dataset, Model);
        var submitted = await client.PostAsJsonAsync("/v1/jobs", new
        {
            name = "to-convert", base_model = model, dataset,
            spec = new { kind = "align", alpha_target = 0.5, steps = 4, batch_size = 16, checkpoint_every = 4, log_every = 1, seed = 7, eval = new { enabled = false } },
        });
        var jobId = (await ServiceStack.ReadJsonAsync(submitted))["id"]!.GetValue<string>();
        var job = await ServiceStack.WaitForStatusAsync(client, jobId, TimeSpan.FromSeconds(180), "succeeded", "failed");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());

        var url = $"/v1/jobs/{jobId}/checkpoints/4/download?format=hf";
        var first = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var operation = await ServiceStack.ReadJsonAsync(first);
        var operationId = operation["id"]!.GetValue<string>();
        Assert.Equal("checkpoint-conversion", operation["kind"]!.GetValue<string>());
        Assert.Equal($"/v1/operations/{operationId}", first.Headers.Location?.OriginalString);
        // A second request while it is in flight joins it (the API only reads the database: answering is immediate).
        var second = await client.GetAsync(url);
        if (second.StatusCode == HttpStatusCode.Accepted)
            Assert.Equal(operationId, (await ServiceStack.ReadJsonAsync(second))["id"]!.GetValue<string>());
        else
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);   // the worker was quicker than this request

        var done = await OperationPolling.WaitAsync(client, operationId, TimeSpan.FromSeconds(120));
        Assert.True(done["state"]!.GetValue<string>() == "succeeded", done.ToJsonString());
        Assert.Equal(4, done["result"]!["step"]!.GetValue<long>());

        var download = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/x-tar", download.Content.Headers.ContentType?.MediaType);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.Equal($"\"{sha256}\"", download.Headers.ETag!.Tag);
        Assert.Equal(sha256, done["result"]!["sha256"]!.GetValue<string>());
        var folder = FinalEmbeddings.ExtractHfTar(bytes);
        Assert.True(File.Exists(Path.Combine(folder, "model.safetensors")) && File.Exists(Path.Combine(folder, "vocab.json")), "the tar is a Hugging Face folder");

        // The OpenCLIP weights need no conversion: served at once.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/jobs/{jobId}/checkpoints/4/download?format=openclip")).StatusCode);
        // Another user does not see the job, nor its operation.
        using var stranger = Stack.Client(await Stack.CreateUserKeyAsync("stranger"));
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/v1/operations/{operationId}")).StatusCode);
    }
}
