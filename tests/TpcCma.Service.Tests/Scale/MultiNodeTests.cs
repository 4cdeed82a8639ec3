using System.Net;
using System.Security.Cryptography;
using Amazon.S3.Model;
using TpcCma.Service.Tests.Storage;

namespace TpcCma.Service.Tests.Scale;

/// <summary>
/// A scaled-out deployment on one machine: the API and two worker nodes share PostgreSQL and an S3 bucket (moto),
/// while each node has its own artifact folder, so a checkpoint can only reach another node through the bucket.
/// </summary>
[TakesAbout(seconds: 95)]
public sealed class MultiNodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Steps = 20;
    private const int CheckpointEvery = 5;
    private readonly MotoServer moto = new();
    private readonly string prefix = $"multinode-{Guid.NewGuid():N}";
    private readonly List<string> workerRoots = [];
    private ServiceStack stack = null!;
    private ServiceProcess[] nodes = [];
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        await moto.InitializeAsync();
        // Quick leases: the killed node's job is handed to the survivor seconds after the kill, not half a minute.
        stack = new ServiceStack { ApiSettings = S3Settings(), NodeSettings = ServiceStack.QuickLeases };
        await stack.InitializeAsync();
        client = stack.Client(await stack.CreateUserKeyAsync("scale"));
    }

    public async Task DisposeAsync()
    {
        // What the nodes logged last, for a failure's report.
        foreach (var node in nodes) output.WriteLine($"--- {node.BaseUrl}\n{node.Output[Math.Max(0, node.Output.Length - 4000)..]}");
        await stack.DisposeAsync();
        await moto.DisposeAsync();
        foreach (var root in workerRoots) try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }

    private Dictionary<string, string> S3Settings()
    {
        var s3 = moto.Options(prefix);
        return new()
        {
            ["Storage:Kind"] = "s3", ["Storage:S3:ServiceUrl"] = s3.ServiceUrl, ["Storage:S3:Bucket"] = s3.Bucket,
            ["Storage:S3:AccessKey"] = s3.AccessKey, ["Storage:S3:SecretKey"] = s3.SecretKey, ["Storage:S3:Prefix"] = s3.Prefix,
        };
    }

    private Task<ServiceProcess> StartNodeAsync(string node)
    {
        var root = Directory.CreateTempSubdirectory($"tpccma-{node}-").FullName;
        workerRoots.Add(root);
        var settings = S3Settings();
        settings["Service:ArtifactRoot"] = root;   // this node's own disk: nothing else reads it
        return stack.StartWorkerAsync(node, settings);
    }

    [Fact]
    public async Task SixJobsOnTwoWorkers_KilledWorkersJobResumesElsewhereFromS3_AndEveryCheckpointDownloads()
    {
        var started = DateTime.UtcNow;
        var dataset = await stack.RegisterShapesAsync(client, count: 64, size: 32);
        var model = await stack.RegisterTinyModelAsync(client);
        nodes = await Task.WhenAll(StartNodeAsync("node-a"), StartNodeAsync("node-b"));
        var ids = new List<string>();
        for (var i = 0; i < 6; i++) ids.Add(await SubmitAsync(model, dataset, $"scale-{i}", seed: 20 + i));

        // Kill the node that holds a job which has an uploaded checkpoint and steps still to go.
        var (victim, victimNode) = await WaitForJobWithCheckpointAsync(ids);
        nodes[victimNode == "node-a" ? 0 : 1].Kill();
        output.WriteLine($"killed {victimNode} running {victim} after {(DateTime.UtcNow - started).TotalSeconds:F1} s");
        var survivor = victimNode == "node-a" ? "node-b" : "node-a";

        foreach (var id in ids)
        {
            var job = await ServiceStack.WaitForStatusAsync(client, id, TimeSpan.FromSeconds(300), "succeeded", "failed", "cancelled");
            Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
            output.WriteLine($"{id} succeeded after {(DateTime.UtcNow - started).TotalSeconds:F1} s on {string.Join(", ", (await RunningNodesAsync(id)).Select(r => r.Node))}");
        }
        output.WriteLine($"all six succeeded after {(DateTime.UtcNow - started).TotalSeconds:F1} s");

        var runningOn = new HashSet<string>();
        foreach (var id in ids) runningOn.UnionWith((await RunningNodesAsync(id)).Select(r => r.Node));
        Assert.Equal(["node-a", "node-b"], runningOn.Order());

        // The killed node's job went on from its checkpoint on the survivor, fetched from S3, with no gap in its curves.
        var victimRuns = await RunningNodesAsync(victim);
        Assert.Equal(victimNode, victimRuns[0].Node);
        Assert.Equal(survivor, victimRuns[^1].Node);
        var events = await EventsAsync(victim);
        var resumed = Assert.Single(events, e => e["kind"]!.GetValue<string>() == "resumed");
        Assert.True(resumed["step"]!.GetValue<long>() > 0, resumed.ToJsonString());
        Assert.Contains(events, e => e["kind"]!.GetValue<string>() == "fetched");
        var loss = (await client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{victim}/metrics?names=loss"))!.Single()!;
        Assert.Equal(Enumerable.Range(1, Steps).Select(i => (long)i), loss["steps"]!.AsArray().Select(s => s!.GetValue<long>()));

        foreach (var id in ids) await AssertLatestCheckpointDownloadsAsync(id);
        // Served from the bucket: the API node keeps no copy of the weights.
        Assert.False(Directory.Exists(Path.Combine(stack.ArtifactRoot, "jobs")), "the API node copied checkpoints to its disk");
        await AssertFinalModelsStoredAsync(ids);
        output.WriteLine($"test body took {(DateTime.UtcNow - started).TotalSeconds:F1} s");
    }

    private async Task<string> SubmitAsync(string model, string dataset, string name, int seed)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            name, base_model = model, dataset,
            spec = new
            {
                kind = "align", alpha_target = 0.5, steps = Steps, batch_size = 16, lr = 1e-4, checkpoint_every = CheckpointEvery, log_every = 1, seed,
                eval = new { enabled = false },
            },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ServiceStack.ReadJsonAsync(response))["id"]!.GetValue<string>();
    }

    /// <summary>
    /// Once half the jobs are done (or none is left queued): a running job with a recorded (so uploaded) checkpoint
    /// and steps left, and the node it runs on.
    /// </summary>
    private async Task<(string Id, string Node)> WaitForJobWithCheckpointAsync(List<string> ids)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(400);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var jobs = new List<JsonObject>();
            foreach (var id in ids) jobs.Add(await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{id}")));
            last = string.Join(" ", jobs.Select(j => $"{j["status"]}@{j["step"]}"));
            // Late, so that few jobs are left for the survivor alone: both nodes have run several by then.
            if (jobs.Count(j => j["status"]!.GetValue<string>() == "succeeded") < ids.Count / 2 && jobs.Any(j => j["status"]!.GetValue<string>() == "queued"))
            {
                await Task.Delay(1000);
                continue;
            }
            foreach (var (id, job) in ids.Zip(jobs))
            {
                if (job["status"]!.GetValue<string>() != "running" || job["step"]!.GetValue<long>() > Steps - CheckpointEvery) continue;
                var checkpoints = (await client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!;
                if (checkpoints.Count == 0) continue;
                var runs = await RunningNodesAsync(id);
                if (runs.Count == 1) return (id, runs[0].Node);
            }
            await Task.Delay(1000);
        }
        throw new TimeoutException($"no job reached a checkpoint with steps to go on either worker; last seen (status@step): {last}");
    }

    private async Task<List<JsonObject>> EventsAsync(string id) =>
        [.. (await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{id}/events?limit=1000")))["data"]!.AsArray().Select(e => e!.AsObject())];

    /// <summary>The nodes of the job's "running on NODE (attempt N)" events, in order.</summary>
    private async Task<List<(string Node, string Message)>> RunningNodesAsync(string id) =>
        [.. (await EventsAsync(id))
            .Where(e => e["kind"]!.GetValue<string>() == "status" && e["message"]!.GetValue<string>().StartsWith("running on ", StringComparison.Ordinal))
            .Select(e => e["message"]!.GetValue<string>())
            .Select(m => (m["running on ".Length..].Split(' ')[0], m))];

    private async Task AssertLatestCheckpointDownloadsAsync(string id)
    {
        var checkpoints = (await client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!;
        var latest = checkpoints.MaxBy(c => c!["step"]!.GetValue<long>())!;
        Assert.Equal(Steps, latest["step"]!.GetValue<long>());
        var download = await client.GetAsync($"/v1/jobs/{id}/checkpoints/latest/download?format=openclip");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.Equal(latest["sha256"]!.GetValue<string>(), sha);
        Assert.Equal($"\"{sha}\"", download.Headers.ETag!.Tag);
        Assert.Equal(latest["size_bytes"]!.GetValue<long>(), bytes.Length);

        // An interrupted download resumes with a range request, answered from the bucket.
        using var partial = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/checkpoints/latest/download?format=openclip");
        partial.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, null);
        var rest = await client.SendAsync(partial);
        Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
        Assert.Equal(bytes[1000..], await rest.Content.ReadAsByteArrayAsync());
    }

    private async Task AssertFinalModelsStoredAsync(List<string> ids)
    {
        using var s3 = moto.RawClient();
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = MotoServer.Bucket, Prefix = prefix + "/jobs/" };
        ListObjectsV2Response page;
        do
        {
            page = await s3.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key[(prefix.Length + 1)..]));
            request.ContinuationToken = page.NextContinuationToken;
        } while (page.IsTruncated == true);
        foreach (var id in ids.Select(Guid.Parse))
        {
            Assert.Contains($"jobs/{id:N}/final/model.safetensors", keys);
            Assert.Contains($"jobs/{id:N}/checkpoints/latest.json", keys);
            Assert.Contains($"jobs/{id:N}/tokenizer/vocab.json", keys);
        }
    }
}
