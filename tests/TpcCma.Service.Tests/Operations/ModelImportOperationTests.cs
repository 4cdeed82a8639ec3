using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TpcCma.Cli;
using TpcCma.Cli.Commands.Client;
using TpcCma.Core.Tests.Checkpoints;
using TpcCma.Service.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TpcCma.Service.Tests.Operations;

/// <summary>
/// <c>POST /v1/models</c> with an <c>hf:</c> reference is a <c>model-import</c> operation that a worker process runs
/// against the tiny local hub: 202 at once, then the model, which a job can train from; a failed import names the
/// reference and registers nothing. The <c>tpccma</c> client waits on it.
/// </summary>
[TakesAbout(seconds: 80)]
public sealed class ModelImportOperationTests : IAsyncLifetime
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(120);
    private readonly TinyHubServer hub = new();
    private readonly string hubCache = Directory.CreateTempSubdirectory("tpccma-hub-cache-").FullName;
    private readonly ServiceStack stack;
    private readonly ITestOutputHelper output;

    public ModelImportOperationTests(ITestOutputHelper output)
    {
        this.output = output;
        stack = new ServiceStack(HubSettings(hub.BaseUrl.ToString()));
    }

    private Dictionary<string, string> HubSettings(string baseUrl) => new()
    {
        ["Hub:BaseUrl"] = baseUrl, ["Hub:AllowedHosts:0"] = "127.0.0.1", ["Hub:CacheDirectory"] = hubCache,
    };

    public Task InitializeAsync() => stack.InitializeAsync();

    public async Task DisposeAsync()
    {
        await stack.DisposeAsync();
        hub.Dispose();
        Directory.Delete(hubCache, recursive: true);
    }

    private static async Task<JsonObject> PostModelAsync(HttpClient client, string reference, HttpStatusCode expected)
    {
        var response = await client.PostAsJsonAsync("/v1/models", new { name = "from-hub", reference });
        Assert.Equal(expected, response.StatusCode);
        var body = await ServiceStack.ReadJsonAsync(response);
        if (expected == HttpStatusCode.Accepted) Assert.Equal($"/v1/operations/{body["id"]}", response.Headers.Location?.OriginalString);
        return body;
    }

    [Fact]
    public async Task ImportFromHub_Answers202_ThenTheOperationSucceedsWithAModelAJobTrainsFrom()
    {
        await stack.StartWorkerAsync("node-ops", HubSettings(hub.BaseUrl.ToString()));
        using var client = stack.Client(await stack.CreateUserKeyAsync("importer"));
        var accepted = await PostModelAsync(client, "hf:tiny-org/clip-tiny", HttpStatusCode.Accepted);
        Assert.Equal("operation", accepted["object"]!.GetValue<string>());
        Assert.Equal("model-import", accepted["kind"]!.GetValue<string>());
        Assert.Equal("queued", accepted["state"]!.GetValue<string>());

        var operation = await OperationPolling.WaitAsync(client, accepted["id"]!.GetValue<string>(), OperationTimeout);
        Assert.True(operation["state"]!.GetValue<string>() == "succeeded", operation.ToJsonString());
        Assert.Contains(hub.Requests, r => r.Contains("/tiny-org/clip-tiny/resolve/main/model.safetensors"));
        var modelId = operation["result"]!["model"]!.GetValue<string>();
        var model = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/models/{modelId}"));
        Assert.Equal("hf", model["source"]!.GetValue<string>());
        Assert.Equal("hf:tiny-org/clip-tiny", model["reference"]!.GetValue<string>());
        Assert.Equal("from-hub", model["name"]!.GetValue<string>());

        // The imported model is a base a job trains from, on the worker that resolves it from its hub cache.
        var dataset = await stack.RegisterShapesAsync(client, count: 48);
        var job = await client.PostAsJsonAsync("/v1/jobs", new
        {
            name = "from-hub-model", base_model = modelId, dataset,
            spec = new { kind = "align", alpha_target = 0.5, steps = 4, batch_size = 16, checkpoint_every = 4, log_every = 1, seed = 5, eval = new { enabled = false } },
        });
        Assert.Equal(HttpStatusCode.Created, job.StatusCode);
        var finished = await ServiceStack.WaitForStatusAsync(client, (await ServiceStack.ReadJsonAsync(job))["id"]!.GetValue<string>(), TimeSpan.FromSeconds(180), "succeeded", "failed");
        Assert.True(finished["status"]!.GetValue<string>() == "succeeded", finished.ToJsonString());
    }

    [Fact]
    public async Task ImportFromHub_OfAnUnknownRepository_FailsNamingTheReference_AndRegistersNothing()
    {
        await stack.StartWorkerAsync("node-ops", HubSettings(hub.BaseUrl.ToString()));
        using var client = stack.Client(await stack.CreateUserKeyAsync("unknown-repo"));
        var accepted = await PostModelAsync(client, "hf:nobody/no-such-model", HttpStatusCode.Accepted);

        var operation = await OperationPolling.WaitAsync(client, accepted["id"]!.GetValue<string>(), OperationTimeout);
        output.WriteLine(operation.ToJsonString());
        Assert.Equal("failed", operation["state"]!.GetValue<string>());
        Assert.Contains("hf:nobody/no-such-model", operation["message"]!.GetValue<string>());
        Assert.Contains("404", operation["message"]!.GetValue<string>());
        Assert.Equal("reference", operation["errors"]!["problems"]![0]!["location"]!.GetValue<string>());
        Assert.Null(operation["result"]);
        Assert.Empty((await ServiceStack.ReadJsonAsync(await client.GetAsync("/v1/models")))["data"]!.AsArray());
    }

    [Fact]
    public async Task ImportFromHub_WhenTheHubIsUnreachable_FailsNamingTheReference_AndRegistersNothing()
    {
        // The worker's hub is a closed port; the API's (which only checks the host) is the same host.
        await stack.StartWorkerAsync("node-ops", HubSettings("http://127.0.0.1:9/"));
        using var client = stack.Client(await stack.CreateUserKeyAsync("no-hub"));
        var accepted = await PostModelAsync(client, "hf:tiny-org/clip-tiny", HttpStatusCode.Accepted);

        var operation = await OperationPolling.WaitAsync(client, accepted["id"]!.GetValue<string>(), OperationTimeout);
        output.WriteLine(operation.ToJsonString());
        Assert.Equal("failed", operation["state"]!.GetValue<string>());
        Assert.StartsWith("importing hf:tiny-org/clip-tiny failed:", operation["message"]!.GetValue<string>());
        Assert.Empty((await ServiceStack.ReadJsonAsync(await client.GetAsync("/v1/models")))["data"]!.AsArray());
    }

    [Fact]
    public async Task ImportFromHub_WithAMalformedReference_Answers400_WithoutAnOperation()
    {
        using var client = stack.Client(await stack.CreateUserKeyAsync("malformed"));
        var response = await client.PostAsJsonAsync("/v1/models", new { reference = "hf:../../etc" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject().ContainsKey("reference"));
        Assert.Empty((await ServiceStack.ReadJsonAsync(await client.GetAsync("/v1/operations")))["data"]!.AsArray());
    }

    [Fact]
    public async Task CliModelsImport_WaitsForTheImport_AndOperationsWaitExitsOneWithTheReason()
    {
        await stack.StartWorkerAsync("node-ops", HubSettings(hub.BaseUrl.ToString()));
        var api = await stack.StartApiAsync(settings: HubSettings(hub.BaseUrl.ToString()));
        var key = await stack.CreateUserKeyAsync("cli");
        var captured = new StringWriter();
        var writer = TextWriter.Synchronized(captured);
        JobWaiter.PollInterval = TimeSpan.FromMilliseconds(250);
        Task<int> Tpccma(params string[] args) => CliApp.RunAsync([.. args, "--url", api.BaseUrl, "--key", key], writer, writer);
        try
        {
            Assert.Equal(ExitCodes.Ok, await Tpccma("models", "import", "hf:tiny-org/clip-tiny", "--name", "cli-hub", "--timeout", "120"));
            using var client = stack.Client(key);
            var models = (await ServiceStack.ReadJsonAsync(await client.GetAsync("/v1/models")))["data"]!.AsArray();
            var model = Assert.Single(models)!;
            Assert.Contains(model["id"]!.GetValue<string>(), captured.ToString());

            var start = captured.ToString().Length;
            Assert.Equal(ExitCodes.Ok, await Tpccma("models", "import", "hf:nobody/missing", "--no-wait", "--output", "json"));
            var operationId = JsonNode.Parse(captured.ToString()[start..])!["id"]!.GetValue<string>();
            Assert.Equal(ExitCodes.Failed, await Tpccma("operations", "wait", operationId, "--timeout", "120"));
            Assert.Contains($"operation {operationId} failed: importing hf:nobody/missing failed", captured.ToString());
            Assert.Equal(ExitCodes.InvalidRequest, await Tpccma("operations", "wait", Guid.NewGuid().ToString()));
        }
        finally
        {
            output.WriteLine(captured.ToString());
        }
    }
}
