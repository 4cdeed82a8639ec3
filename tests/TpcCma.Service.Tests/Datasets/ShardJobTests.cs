using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TpcCma.Service.Tests.Infrastructure;
using TpcCma.Service.Tests.Operations;
using TpcCma.Service.Tests.Storage;
using Xunit.Abstractions;

namespace TpcCma.Service.Tests.Datasets;

/// <summary>Jobs on registered shard sets: a worker process trains from the shards (local, or streamed from S3) and evaluates on their held-out split.</summary>
[TakesAbout(seconds: 95)]
public sealed class ShardJobTests(MotoServer moto, ITestOutputHelper output) : IClassFixture<MotoServer>, IAsyncLifetime
{
    private const int Samples = 48;
    private readonly string prefix = "jobs-" + Guid.NewGuid().ToString("N")[..12];
    private ServiceStack stack = null!;
    private HttpClient client = null!;
    private string model = "";

    public async Task InitializeAsync()
    {
        stack = new ServiceStack(TestShards.S3Settings(moto.ServiceUrl));
        await stack.InitializeAsync();
        client = stack.Client(await stack.CreateUserKeyAsync("shard-jobs"));
        model = await stack.RegisterTinyModelAsync(client);
        await stack.StartWorkerAsync("shard-node", TestShards.S3Settings(moto.ServiceUrl));
    }

    public Task DisposeAsync() => stack.DisposeAsync();

    /// <summary>Every sixth sample held out as <c>test</c>: 40 to train on, 8 to evaluate.</summary>
    private IReadOnlyList<string> WriteShards(string folder) =>
        TestShards.Write(Path.Combine(stack.DataRoot, folder), Samples, shardSize: 16, i => i % 6 == 0 ? "test" : "train");

    private async Task<JsonObject> TrainAsync(string shards, string policy = "fail")
    {
        var registered = await client.PostAsJsonAsync("/v1/datasets", new { name = "wds", shards, policy });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var dataset = (await ServiceStack.ReadJsonAsync(registered))["id"]!.GetValue<string>();
        var submitted = await client.PostAsJsonAsync("/v1/jobs", new
        {
            name = "shard-align", base_model = model, dataset,
            spec = new
            {
                kind = "align", alpha_target = 0.5, steps = 8, batch_size = 8, lr = 1e-4, checkpoint_every = 4, log_every = 1, seed = 3,
                eval = new { enabled = true, captioning_steps = 10, train_sample = 0, at_phase_boundaries = false },
            },
        });
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var id = (await ServiceStack.ReadJsonAsync(submitted))["id"]!.GetValue<string>();
        var started = DateTime.UtcNow;
        var job = await ServiceStack.WaitForStatusAsync(client, id, TimeSpan.FromSeconds(300), "succeeded", "failed");
        output.WriteLine($"{shards}: {job["status"]} in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        return job;
    }

    private static void AssertTrainedOnTheShards(JsonObject job, int trainSamples = 40)
    {
        var result = job["result"]!;
        Assert.Equal(8, job["step"]!.GetValue<long>());
        Assert.Equal(trainSamples, result["train_samples"]!.GetValue<int>());   // the whole training split, streamed
        Assert.Equal(8, result["held_out_samples"]!.GetValue<int>());  // evaluated on the held-out split
        var splits = result["evaluations"]!.AsArray().Select(e => e!["report"]!["split"]!.GetValue<string>()).Distinct();
        Assert.Contains("test", splits);
    }

    /// <summary>The three shards and a fourth: one good training sample and one whose image is garbage (<c>00003.tar!bad.png</c>).</summary>
    private void WriteShardsWithABadSample(string folder)
    {
        WriteShards(folder);
        var png = TestShards.FirstImage(Path.Combine(stack.DataRoot, folder, "00000.tar"));
        var json = TestShards.Text("""{"label": "red", "split": "train"}""");
        TestShards.Tar(Path.Combine(stack.DataRoot, folder, "00003.tar"),
            ("ok.png", png), ("ok.txt", TestShards.Text("a red square")), ("ok.json", json),
            ("bad.png", TestShards.Text("garbage, not an image")), ("bad.txt", TestShards.Text("a red square")), ("bad.json", json));
    }

    [Fact]
    public async Task Job_OnRegisteredLocalShards_TrainsEvaluatesOnTheHeldOutSplit_AndCountsSkippedSamples()
    {
        // Policy skip leaves the bad sample out of every epoch, and says so.
        WriteShardsWithABadSample("wds");

        var job = await TrainAsync("wds/{00000..00003}.tar", policy: "skip");

        AssertTrainedOnTheShards(job, trainSamples: 41);
        var events = (await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{job["id"]}/events")))["data"]!.AsArray();
        var skipped = Assert.Single(events, e => e!["kind"]!.GetValue<string>() == "skipped")!;
        Assert.Contains("left out", skipped["message"]!.GetValue<string>());
        Assert.True(skipped["data"]!["by_epoch"]!.AsObject().Sum(p => p.Value!.GetValue<int>()) >= 1, skipped.ToJsonString());
        Assert.StartsWith("00003.tar!bad.png: ", skipped["data"]!["first_errors"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Validation_RunsOnAWorker_LocatesEveryProblem_AndCountsTheSamples()
    {
        WriteShardsWithABadSample("checked");
        var registered = await client.PostAsJsonAsync("/v1/datasets", new { name = "checked", shards = "checked/{00000..00003}.tar", policy = "skip" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var dataset = await ServiceStack.ReadJsonAsync(registered);

        var operation = await OperationPolling.WaitAsync(client, dataset["validation"]!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(180));

        Assert.True(operation["state"]!.GetValue<string>() == "succeeded", operation.ToJsonString());
        Assert.Equal(1.0, operation["progress"]!.GetValue<double>());
        Assert.Equal(Samples + 1, operation["result"]!["usable"]!.GetValue<int>());
        Assert.Equal(1, operation["errors"]!["total"]!.GetValue<int>());
        Assert.Equal(1, operation["errors"]!["counts"]!.AsObject().Sum(c => c.Value!.GetValue<int>()));
        Assert.Equal("00003.tar!bad.png", operation["errors"]!["problems"]![0]!["location"]!.GetValue<string>());
        // The pass counted what the probe could not: the data set now has its exact sample count and the pass's summary.
        var counted = await client.GetFromJsonAsync<JsonObject>($"/v1/datasets/{dataset["id"]}");
        Assert.Equal(Samples + 1, counted!["sample_count"]!.GetValue<int>());
        Assert.Equal(1, counted["report"]!["validation"]!["problems"]!.GetValue<int>());
    }

    [Fact]
    public async Task Job_OnS3Shards_StreamsThemFromTheObjectStore()
    {
        await TestShards.UploadAsync(moto, prefix, WriteShards("staging"));
        Directory.Delete(Path.Combine(stack.DataRoot, "staging"), recursive: true);   // only the bucket holds them now
        AssertTrainedOnTheShards(await TrainAsync($"s3://{MotoServer.Bucket}/{prefix}/{{00000..00002}}.tar"));
    }
}
