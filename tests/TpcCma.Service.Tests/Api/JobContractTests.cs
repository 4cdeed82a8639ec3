using System.Net;
using System.Text;
using Npgsql;
using TpcCma.Cli;

namespace TpcCma.Service.Tests.Api;

/// <summary>
/// What the API shows of a job and its resources: no path of a node in any response, type errors that name every
/// wrong field and the type it needs, and lists that page with cursors (the <c>tpccma</c> client follows them).
/// </summary>
public sealed class JobContractTests() : UserDeploymentTests(new UserDeployment("contract", shapes: 24))
{
    private Task<HttpResponseMessage> SubmitAsync(string name, object? spec = null) => Client.PostAsJsonAsync("/v1/jobs", new
    {
        name, base_model = Model, dataset = Dataset,
        spec = spec ?? new { kind = "align", steps = 6, batch_size = 8, lr = 1e-4, checkpoint_every = 3, log_every = 1, seed = 1, eval = new { enabled = false } },
    });

    private static readonly object SweepSpec = new { kind = "align", steps = 6, batch_size = 8, lr = 1e-4, checkpoint_every = 3, log_every = 1, seed = 1, eval = new { enabled = false } };

    private void AssertNoServerPath(string json, string what)
    {
        foreach (var root in new[] { Stack.DataRoot, Stack.ArtifactRoot, Path.GetTempPath() })
            Assert.False(json.Contains(root, StringComparison.Ordinal), $"{what} shows the server path {root}: {json}");
    }

    [Fact]
    public async Task Responses_CarryNoServerPaths_TheWorkerResolvesThemAndRecordsTheRunApart()
    {
        var created = await SubmitAsync("no-paths");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await ServiceStack.ReadJsonAsync(created))["id"]!.GetValue<string>();

        await Stack.StartWorkerAsync("node-a");
        var job = await ServiceStack.WaitForStatusAsync(Client, id, TimeSpan.FromSeconds(180), "succeeded", "failed");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        var shown = await Client.GetStringAsync($"/v1/jobs/{id}");
        AssertNoServerPath(shown, "GET /v1/jobs/{id}");
        var spec = JsonNode.Parse(shown)!["spec"]!.AsObject();
        Assert.False(spec.ContainsKey("dataset") || spec.ContainsKey("init_weights"), spec.ToJsonString());
        Assert.Equal(Model, JsonNode.Parse(shown)!["base_model"]!.GetValue<string>());
        AssertNoServerPath(await Client.GetStringAsync("/v1/jobs"), "GET /v1/jobs");

        // The stored spec is the user's; the paths the worker resolved on its node are kept on the row apart from it.
        await using var connection = new NpgsqlConnection(Stack.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("""SELECT "Spec"::text, "Run"::text FROM jobs WHERE "Id" = @id""", connection);
        query.Parameters.AddWithValue("id", Guid.Parse(id));
        await using (var row = await query.ExecuteReaderAsync())
        {
            Assert.True(await row.ReadAsync());
            Assert.DoesNotContain(Stack.DataRoot, row.GetString(0));
            var run = JsonNode.Parse(row.GetString(1))!;
            Assert.StartsWith(Stack.DataRoot, run["dataset"]!.GetValue<string>());
            Assert.StartsWith(Path.Combine(Stack.DataRoot, "clip-tiny-hf"), run["init_weights"]!.GetValue<string>());
            Assert.Equal("cpu", run["device"]!.GetValue<string>());
            Assert.Equal("node-a", run["node"]!.GetValue<string>());
        }

        // Models: an import shows its path under the data root as given, a job's model shows job:ID.
        var models = await Client.GetStringAsync("/v1/models");
        AssertNoServerPath(models, "GET /v1/models");
        var references = JsonNode.Parse(models)!["data"]!.AsArray().ToDictionary(m => m!["source"]!.GetValue<string>(), m => m!["reference"]!.GetValue<string>());
        Assert.Equal("clip-tiny-hf", references["import"]);
        Assert.Equal($"job:{id}", references["job"]);

        // A job may start from the finished job's model: the worker resolves its artifact key on its node.
        var jobModel = JsonNode.Parse(models)!["data"]!.AsArray().Single(m => m!["source"]!.GetValue<string>() == "job")!["id"]!.GetValue<string>();
        var second = await Client.PostAsJsonAsync("/v1/jobs", new
        {
            name = "from-job-model", base_model = jobModel, dataset = Dataset,
            spec = new { kind = "align", steps = 3, batch_size = 8, lr = 1e-4, checkpoint_every = 3, log_every = 1, seed = 1, eval = new { enabled = false } },
        });
        var secondId = (await ServiceStack.ReadJsonAsync(second))["id"]!.GetValue<string>();
        var finished = await ServiceStack.WaitForStatusAsync(Client, secondId, TimeSpan.FromSeconds(180), "succeeded", "failed");
        Assert.True(finished["status"]!.GetValue<string>() == "succeeded", finished.ToJsonString());
    }

    [Fact]
    public async Task CreateJob_FieldsOfTheWrongType_AreEachNamedWithTheTypeTheyNeed_AlongWithEveryOtherProblem()
    {
        var response = await Client.PostAsync("/v1/jobs", new StringContent("""{"base_model": "nope", "spec": {"alpha_target": 7}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject();
        Assert.Contains("must be an id", errors["base_model"]![0]!.GetValue<string>());
        Assert.Contains("\"nope\"", errors["base_model"]![0]!.GetValue<string>());
        Assert.True(errors.ContainsKey("spec.alpha_target"), errors.ToJsonString());   // out of range, reported with the type error
        Assert.True(errors.ContainsKey("dataset"), errors.ToJsonString());

        var body = $$$"""
            {"name": 5, "base_model": "{{{Model}}}", "dataset": "{{{Dataset}}}", "queue": ["cpu"],
             "spec": {"steps": "many", "lr": "fast", "kind": "sideways", "alpha_target": 0.4, "batch_size": 1.5,
                      "eval": {"enabled": "yes", "max_pairs": 10}, "prompt": 1}}
            """;
        response = await Client.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        errors = (await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject();
        var expected = new Dictionary<string, string>
        {
            ["name"] = "must be a string, not the number 5",
            ["queue"] = "must be a string, not a list",
            ["spec.steps"] = "must be a whole number, not the string \"many\"",
            ["spec.lr"] = "must be a number, not the string \"fast\"",
            ["spec.kind"] = "must be one of \"align\"",
            ["spec.batch_size"] = "must be a whole number, not the number 1.5",
            ["spec.eval.enabled"] = "must be true or false, not the string \"yes\"",
            ["spec.prompt"] = "is not a field here",
        };
        foreach (var (field, message) in expected)
        {
            Assert.True(errors.ContainsKey(field), $"{field} is not named: {errors.ToJsonString()}");
            Assert.Contains(message, errors[field]![0]!.GetValue<string>());
        }
        Assert.Equal(expected.Keys.Order(), errors.Select(e => e.Key).Order());   // the valid fields are not blamed
        Assert.DoesNotContain("System.", errors.ToJsonString());
        Assert.Empty((await Client.GetFromJsonAsync<JsonObject>("/v1/jobs"))!["data"]!.AsArray());   // nothing stored
    }

    [Fact]
    public async Task Lists_PageWithCursors_EveryItemOnce_NewestFirst_AndTheClientFollowsThem()
    {
        var jobs = new List<string>();
        for (var i = 0; i < 5; i++) jobs.Add((await ServiceStack.ReadJsonAsync(await SubmitAsync($"page-{i}")))["id"]!.GetValue<string>());
        // A sweep's jobs share one creation time: the cursor's id breaks the tie.
        var sweep = await Client.PostAsJsonAsync("/v1/sweeps", new { name = "paged", base_model = Model, dataset = Dataset, alpha_targets = new[] { 0.1, 0.2, 0.3 }, spec = SweepSpec });
        Assert.Equal(HttpStatusCode.Created, sweep.StatusCode);
        var sweepId = (await ServiceStack.ReadJsonAsync(sweep))["id"]!.GetValue<string>();
        await Client.PostAsJsonAsync("/v1/sweeps", new { name = "paged-2", base_model = Model, dataset = Dataset, alpha_targets = new[] { 0.5 }, spec = SweepSpec });
        await Stack.RegisterShapesAsync(Client, count: 8);
        await Client.PostAsJsonAsync("/v1/models", new { name = "preset", reference = "preset:tiny" });

        var allJobs = await ReadAllAsync("/v1/jobs", pageSize: 1000);
        Assert.Equal(9, allJobs.Count);
        foreach (var (path, total) in new[] { ("/v1/jobs", 9), ("/v1/jobs?sweep=" + sweepId, 3), ("/v1/models", 2), ("/v1/datasets", 2), ("/v1/sweeps", 2) })
        {
            var paged = await ReadAllAsync(path, pageSize: 2);
            Assert.Equal(total, paged.Count);
            Assert.Equal(paged.Count, paged.Distinct().Count());
            Assert.Equal(await ReadAllAsync(path, pageSize: 500), paged);   // the same items in the same order as one page
        }
        Assert.Equal(jobs.AsEnumerable().Reverse(), allJobs.TakeLast(5));   // newest first

        var bad = await Client.GetAsync("/v1/jobs?cursor=not-a-cursor");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await ServiceStack.ReadJsonAsync(bad))["errors"]!.AsObject().ContainsKey("cursor"));

        // tpccma jobs list reads page after page until it has --limit jobs.
        var api = await Stack.StartApiAsync();
        foreach (var (limit, count, more) in new[] { ("5", 5, true), ("50", 9, false) })
        {
            var output = new StringWriter();
            var errors = new StringWriter();
            var code = await CliApp.RunAsync(["jobs", "list", "--limit", limit, "--page-size", "2", "--output", "json", "--url", api.BaseUrl, "--key", Deployment.Key], output, errors);
            Assert.True(code == ExitCodes.Ok, errors.ToString());
            var list = JsonNode.Parse(output.ToString())!;
            Assert.Equal(allJobs.Take(count), list["data"]!.AsArray().Select(j => j!["id"]!.GetValue<string>()));
            Assert.Equal(more, list["has_more"]!.GetValue<bool>());
        }
    }

    /// <summary>Every id of a list, following <c>next</c> while <c>has_more</c>; checks that only the last page is not cut.</summary>
    private async Task<List<string>> ReadAllAsync(string path, int pageSize)
    {
        var ids = new List<string>();
        string? cursor = null;
        var separator = path.Contains('?') ? '&' : '?';
        for (var pages = 0; pages < 100; pages++)
        {
            var page = (await Client.GetFromJsonAsync<JsonObject>($"{path}{separator}limit={pageSize}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")))!;
            var data = page["data"]!.AsArray();
            ids.AddRange(data.Select(d => d!["id"]!.GetValue<string>()));
            if (!page["has_more"]!.GetValue<bool>())
            {
                Assert.Null(page["next"]?.GetValue<string>());
                return ids;
            }
            Assert.Equal(Math.Min(pageSize, 500), data.Count);
            cursor = page["next"]!.GetValue<string>();
        }
        throw new InvalidOperationException($"{path} did not end after 100 pages");
    }
}
