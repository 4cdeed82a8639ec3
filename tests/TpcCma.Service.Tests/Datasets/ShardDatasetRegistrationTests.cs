using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TpcCma.Service.Tests.Infrastructure;
using TpcCma.Service.Tests.Storage;

namespace TpcCma.Service.Tests.Datasets;

/// <summary><c>POST /v1/datasets</c> with <c>shards</c>: local and S3 shard sets checked on a bounded sample, problems named by shard and member.</summary>
public sealed class ShardDatasetRegistrationTests(MotoServer moto) : IClassFixture<MotoServer>, IAsyncLifetime
{
    private readonly string prefix = "register-" + Guid.NewGuid().ToString("N")[..12];
    private ServiceStack stack = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        stack = new ServiceStack(TestShards.S3Settings(moto.ServiceUrl));
        await stack.InitializeAsync();
        client = stack.Client(await stack.CreateUserKeyAsync("shards"));
    }

    public Task DisposeAsync() => stack.DisposeAsync();

    private Task<HttpResponseMessage> RegisterAsync(object shards, string policy = "fail") =>
        client.PostAsJsonAsync("/v1/datasets", new { name = "wds", shards, policy });

    private static async Task<JsonObject> ErrorsOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return (await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject();
    }

    private static string Messages(JsonObject errors, string key) =>
        errors[key] is JsonArray list ? string.Join(" | ", list.Select(m => m!.GetValue<string>())) : $"(no '{key}' in {errors.ToJsonString()})";

    [Fact]
    public async Task Register_LocalShardPattern_Answers201WithShardAndSampleCounts()
    {
        TestShards.Write(Path.Combine(stack.DataRoot, "wds"), 7, shardSize: 3, i => i < 5 ? "train" : "test");

        var response = await RegisterAsync("wds/{00000..00002}.tar");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var dataset = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("shards", dataset["source"]!.GetValue<string>());
        Assert.Equal(3, dataset["shard_count"]!.GetValue<int>());
        Assert.Equal(7, dataset["sample_count"]!.GetValue<int>());   // every shard read to its end: the count is exact
        Assert.Equal(3, dataset["class_count"]!.GetValue<int>());
        Assert.Equal(["test", "train"], dataset["report"]!["probe"]!["splits"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.DoesNotContain(stack.DataRoot, body);   // the list is kept relative to the data root
        var stored = await client.GetFromJsonAsync<JsonObject>($"/v1/datasets/{dataset["id"]}");
        Assert.Equal(3, stored!["shard_count"]!.GetValue<int>());

        // The full pass is an operation (no worker here, so it waits queued); asking again joins it rather than starting another.
        var validation = dataset["validation"]!["id"]!.GetValue<string>();
        Assert.Equal($"/v1/operations/{validation}", dataset["validation"]!["url"]!.GetValue<string>());
        var operation = await client.GetFromJsonAsync<JsonObject>($"/v1/operations/{validation}");
        Assert.Equal("dataset-validation", operation!["kind"]!.GetValue<string>());
        Assert.Equal("queued", operation["state"]!.GetValue<string>());
        var again = await client.PostAsync($"/v1/datasets/{dataset["id"]}/validation", null);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(validation, (await ServiceStack.ReadJsonAsync(again))["id"]!.GetValue<string>());
        var folderSet = await stack.RegisterShapesAsync(client, count: 8);
        var notShards = await client.PostAsync($"/v1/datasets/{folderSet}/validation", null);
        Assert.Contains("only shard datasets", Messages(await ErrorsOf(notShards), "dataset"));

        // An array of patterns is the same set.
        var array = await RegisterAsync(new[] { "wds/{00000..00001}.tar", "wds/00002.tar" });
        Assert.Equal(HttpStatusCode.Created, array.StatusCode);
        Assert.Equal(3, (await ServiceStack.ReadJsonAsync(array))["shard_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Register_LargerSet_ProbesABoundedSample_AndLeavesTheSampleCountToTheFullPass()
    {
        TestShards.Write(Path.Combine(stack.DataRoot, "big"), 12 * 40, shardSize: 40);

        var response = await RegisterAsync("big/{00000..00011}.tar");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var dataset = await ServiceStack.ReadJsonAsync(response);
        Assert.Equal(12, dataset["shard_count"]!.GetValue<int>());
        Assert.Null(dataset["sample_count"]);
        Assert.Equal(8, dataset["report"]!["probe"]!["shards"]!.GetValue<int>());
        Assert.Equal(8 * 32, dataset["report"]!["probe"]!["samples"]!.GetValue<int>());
    }

    [Fact]
    public async Task Register_BadShards_Answer400NamingTheShardAndMember_AndStoreNothing()
    {
        var folder = Path.Combine(stack.DataRoot, "bad");
        TestShards.Write(folder, 3, shardSize: 3);   // 00000.tar is fine
        TestShards.Tar(Path.Combine(folder, "00001.tar"), ("KEY.png", TestShards.Text("these bytes are no image")), ("KEY.txt", TestShards.Text("a caption")));
        File.WriteAllText(Path.Combine(folder, "00002.tar"), "not a tar archive, just text that is long enough to fill a header block" + new string('.', 600));

        var bad = await ErrorsOf(await RegisterAsync("bad/{00000..00002}.tar"));
        Assert.Contains("image", Messages(bad, "00001.tar!KEY.png"));
        Assert.Contains("not a tar file", Messages(bad, "00002.tar"));
        Assert.DoesNotContain("00000.tar", bad.Select(e => e.Key));

        var nothing = await ErrorsOf(await RegisterAsync("none/{00000..00003}.tar"));
        Assert.Contains("the pattern 'none/{00000..00003}.tar' matches nothing", Messages(nothing, "shards"));
        var missing = await ErrorsOf(await RegisterAsync("bad/{00000..00004}.tar"));
        Assert.Contains("shard not found", Messages(missing, "00004.tar"));
        var empty = await ErrorsOf(await RegisterAsync("bad/{00005..00001}.tar"));
        Assert.Contains("expands to no shards", Messages(empty, "shards"));
        var outside = await ErrorsOf(await RegisterAsync("../{00000..00001}.tar"));
        Assert.Contains("leaves the data root", Messages(outside, "shards"));
        var absolute = await ErrorsOf(await RegisterAsync("/etc/{00000..00001}.tar"));
        Assert.Contains("must be relative to the data root", Messages(absolute, "shards"));
        var wrongType = await ErrorsOf(await RegisterAsync(42));
        Assert.Contains("shards", wrongType.Select(e => e.Key));
        var both = await client.PostAsJsonAsync("/v1/datasets", new { path = "bad", shards = "bad/{00000..00000}.tar" });
        Assert.Contains("exactly one of path, builtin or shards", Messages(await ErrorsOf(both), "path"));

        var listed = await client.GetFromJsonAsync<JsonObject>("/v1/datasets");
        Assert.Empty(listed!["data"]!.AsArray());

        // Under `skip` a bad sample is reported and left out, but a shard that cannot be read still refuses the set.
        Assert.Contains("not a tar file", Messages(await ErrorsOf(await RegisterAsync("bad/{00000..00002}.tar", "skip")), "00002.tar"));
        var skipped = await RegisterAsync("bad/{00000..00001}.tar", "skip");
        Assert.Equal(HttpStatusCode.Created, skipped.StatusCode);
        var report = (await ServiceStack.ReadJsonAsync(skipped))["report"]!["probe"]!;
        Assert.StartsWith("00001.tar!KEY.png: ", report["first_errors"]![0]!.GetValue<string>());
        Assert.Equal(3, report["usable"]!.GetValue<int>());
    }

    [Fact]
    public async Task Register_S3Shards_ProbesTheObjects_AndNamesAMissingOne()
    {
        var folder = Path.Combine(stack.DataRoot, "upload");
        await TestShards.UploadAsync(moto, prefix, TestShards.Write(folder, 7, shardSize: 3, i => i < 5 ? "train" : "test"));

        var response = await RegisterAsync($"s3://{MotoServer.Bucket}/{prefix}/{{00000..00002}}.tar");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var dataset = await ServiceStack.ReadJsonAsync(response);
        Assert.Equal(3, dataset["shard_count"]!.GetValue<int>());
        Assert.Equal(7, dataset["sample_count"]!.GetValue<int>());

        var missing = await ErrorsOf(await RegisterAsync($"s3://{MotoServer.Bucket}/{prefix}/{{00000..00003}}.tar"));
        Assert.Contains($"no object s3://{MotoServer.Bucket}/{prefix}/00003.tar", Messages(missing, "00003.tar"));
    }

    [Fact]
    public async Task Register_S3ShardsWithTheServerUnreachable_NamesTheShardAndTheEndpoint()
    {
        var unreachable = new ServiceStack(TestShards.S3Settings("http://127.0.0.1:9"));   // discard port: nothing listens
        await unreachable.InitializeAsync();
        try
        {
            using var user = unreachable.Client(await unreachable.CreateUserKeyAsync("unreachable"));

            var response = await user.PostAsJsonAsync("/v1/datasets", new { shards = $"s3://{MotoServer.Bucket}/{prefix}/{{00000..00000}}.tar" });

            var message = Messages(await ErrorsOf(response), "00000.tar");
            Assert.Contains("cannot reach S3", message);
            Assert.Contains("127.0.0.1:9", message);
        }
        finally
        {
            await unreachable.DisposeAsync();
        }
    }
}
