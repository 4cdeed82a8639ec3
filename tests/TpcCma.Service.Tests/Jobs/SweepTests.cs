using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TpcCma.Service.Tests.Infrastructure;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>An alpha_target sweep: one job per value, then the table of base, mean-centered base and each run, with R^2 fits.</summary>
public sealed class SweepTests : IAsyncLifetime
{
    private readonly ServiceStack stack = new();
    private HttpClient client = null!;
    private string dataset = "";
    private string model = "";

    public async Task InitializeAsync()
    {
        await stack.InitializeAsync();
        (client, dataset, model) = await stack.CreateUserWorkspaceAsync("sweeps", shapes: 64);
    }

    public Task DisposeAsync() => stack.DisposeAsync();

    [Theory]
    [InlineData("""{"alpha_targets": [1.0]}""", "alpha_targets")]
    [InlineData("""{"alpha_targets": [0.1, 0.1]}""", "alpha_targets")]
    [InlineData("""{"alpha_targets": []}""", "alpha_targets")]
    [InlineData("""{"alpha_targets": [0.1, "x"]}""", "alpha_targets[1]")]
    [InlineData("""{"seeds": []}""", "seeds")]
    [InlineData("""{"seeds": [1, 1]}""", "seeds")]
    [InlineData("""{"seeds": [-3]}""", "seeds")]
    [InlineData("""{"seeds": [1, 2.5]}""", "seeds[1]")]
    [InlineData("""{"seeds": "0,1"}""", "seeds")]
    [InlineData("""{"seeds": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]}""", "seeds")]
    [InlineData("""{"seeds": [0, 1], "spec": {"seed": 4}}""", "spec.seed")]
    [InlineData("""{"spec": {"alpha_target": 0.2}}""", "spec.alpha_target")]
    public async Task CreateSweep_InvalidSeedsOrGrid_Returns400NamingTheField(string extra, string field)
    {
        var body = JsonNode.Parse(extra)!.AsObject();
        body["base_model"] = model;
        body["dataset"] = dataset;
        var response = await client.PostAsync("/v1/sweeps", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"expected an error on {field}, got {errors.ToJsonString()}");
        var list = await ServiceStack.ReadJsonAsync(await client.GetAsync("/v1/sweeps"));
        Assert.Empty(list["data"]!.AsArray());
    }

    [Fact]
    public async Task CreateSweep_WithoutAGrid_RunsTheDefaultGridOnce()
    {
        var response = await client.PostAsJsonAsync("/v1/sweeps", new { base_model = model, dataset, spec = new { seed = 3, steps = 2 } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var sweep = await ServiceStack.ReadJsonAsync(response);
        Assert.Equal([0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7], sweep["alpha_targets"]!.AsArray().Select(a => a!.GetValue<double>()));
        Assert.Equal([3L], sweep["seeds"]!.AsArray().Select(a => a!.GetValue<long>()));
        Assert.Equal(8, sweep["jobs"]!.AsArray().Count);
    }

    [Fact]
    public async Task Sweep_RunsOneJobPerAlphaAndSeed_AndReportsIntervalsAndTheResultsFile()
    {
        await stack.StartWorkerAsync("node-a");
        var response = await client.PostAsJsonAsync("/v1/sweeps", new
        {
            name = "tiny-sweep", base_model = model, dataset, alpha_targets = new[] { 0.0, 0.6 }, seeds = new[] { 5L, 6L },
            spec = new { steps = 12, batch_size = 16, lr = 1e-4, log_every = 4, eval = new { captioning_steps = 10, captioning_seeds = 2, train_sample = 0, at_phase_boundaries = false } },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var sweep = await ServiceStack.ReadJsonAsync(response);
        var jobs = sweep["jobs"]!.AsArray();
        Assert.Equal([(5L, 0.0), (5L, 0.6), (6L, 0.0), (6L, 0.6)],
            jobs.Select(j => (j!["seed"]!.GetValue<long>(), j["spec"]!["alpha_target"]!.GetValue<double>())));
        Assert.Equal([5L, 6L], jobs.Select(j => j!["spec"]!["seed"]!.GetValue<long>()).Distinct());

        foreach (var job in jobs)
            await ServiceStack.WaitForStatusAsync(client, job!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(300), "succeeded");
        var get = await client.GetAsync($"/v1/sweeps/{sweep["id"]}");
        Assert.True(get.IsSuccessStatusCode, await get.Content.ReadAsStringAsync());
        var done = await ServiceStack.ReadJsonAsync(get);
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        var table = done["report"]!.AsArray().Single(t => t!["split"]!.GetValue<string>() == "test")!;
        Assert.Equal(["base", "base + mean-centering", "base", "base + mean-centering", "alpha_target 0", "alpha_target 0.6", "alpha_target 0", "alpha_target 0.6"],
            table["rows"]!.AsArray().Select(r => r!["model"]!.GetValue<string>()));

        // Each model over the two seeds: a mean inside its interval, and reductions paired with the same seed's base.
        var summary = table["summary"]!.AsArray();
        Assert.Equal(["base", "base_centered", "align", "align"], summary.Select(r => r!["model"]!.GetValue<string>()));
        foreach (var row in summary)
        {
            Assert.Equal(2, row!["seeds"]!.GetValue<int>());
            var raw = row["metrics"]!["gap_raw"]!;
            Assert.InRange(raw["value"]!.GetValue<double>(), raw["low"]!.GetValue<double>(), raw["high"]!.GetValue<double>());
        }
        var centered = summary[1]!;
        Assert.Equal(0, centered["metrics"]!["gap_centroid"]!["value"]!.GetValue<double>(), 1e-9);
        Assert.Equal(0, centered["changes"]!["gap_distribution"]!["value"]!.GetValue<double>(), 1e-6);
        Assert.True(summary[3]!["reductions"]!["gap_raw"]!["value"]!.GetValue<double>() > summary[2]!["reductions"]!["gap_raw"]!["value"]!.GetValue<double>(),
            "a larger alpha_target closes more gap");
        Assert.Contains(table["fits"]!.AsArray(), f => f!["gap"]!.GetValue<string>() == "distribution" && f["models"]!.GetValue<int>() == 8);
        var comparison = table["comparisons"]!.AsArray().Single(c => c!["metric"]!.GetValue<string>() == "joint_ari")!;
        Assert.Equal(8, comparison["points"]!.GetValue<int>());
        Assert.NotNull(comparison["difference"]!["low"]);

        var results = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/sweeps/{sweep["id"]}/results.json"));
        Assert.Equal(["dataset", "seeds", "alpha_targets", "splits"], results.Select(p => p.Key));
        Assert.Equal([5L, 6L], results["seeds"]!.AsArray().Select(s => s!.GetValue<long>()));
        Assert.Equal([0.0, 0.6], results["alpha_targets"]!.AsArray().Select(s => s!.GetValue<double>()));
        Assert.False(string.IsNullOrEmpty(results["dataset"]!.GetValue<string>()));
        var resultRows = results["splits"]!["test"]!["rows"]!.AsArray();
        Assert.Equal(8, resultRows.Count);
        Assert.Equal(["model", "alpha_target", "seed", "metrics"], resultRows[0]!.AsObject().Select(p => p.Key));
        Assert.Equal(["base", "base_centered", "base", "base_centered", "align", "align", "align", "align"], resultRows.Select(r => r!["model"]!.GetValue<string>()));
        var align = resultRows[4]!;
        Assert.Equal(0.0, align["alpha_target"]!.GetValue<double>());
        foreach (var metric in new[] { "gap_raw", "gap_centroid", "gap_distribution", "zero_shot_top1", "joint_ari", "cider_image_to_text", "cider_text_to_text", "gap_mismatch" })
            Assert.True(align["metrics"]![metric] is not null, $"results.json rows lack {metric}");
        Assert.Null(resultRows[0]!["alpha_target"]);
    }
}
