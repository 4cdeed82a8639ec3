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
    [InlineData("""{"methods": []}""", "methods")]
    [InlineData("""{"methods": [{"name": "Bad Name"}]}""", "methods[0].name")]
    [InlineData("""{"methods": [{"spec": {"cma": "geometry"}}]}""", "methods[0].name")]
    [InlineData("""{"methods": [{"name": "a"}, {"name": "a"}]}""", "methods[1].name")]
    [InlineData("""{"methods": [{"name": "a", "spec": {"lr": -1}}]}""", "methods[0].spec.lr")]
    [InlineData("""{"methods": [{"name": "a"}, {"name": "b", "spec": {"method": "nope"}}]}""", "methods[1].spec.method")]
    [InlineData("""{"methods": [{"name": "a", "spec": {"seed": 2}}]}""", "methods[0].spec.seed")]
    [InlineData("""{"methods": [{"name": "a", "spec": {"alpha_target": 0.1}}]}""", "methods[0].spec.alpha_target")]
    [InlineData("""{"methods": [{"name": "a", "spec": {"method": "align_clip", "align_clip_weight": -1}}]}""", "methods[0].spec.align_clip_weight")]
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
    public async Task CreateSweep_WithAlignClip_MakesOneJobPerSeed_WithoutAlpha()
    {
        var response = await client.PostAsJsonAsync("/v1/sweeps", new
        {
            name = "peers", base_model = model, dataset, alpha_targets = new[] { 0.2, 0.5 }, seeds = new[] { 1L, 2L },
            methods = new object[] { new { name = "align_clip", spec = new { method = "align_clip" } }, new { name = "tpccma", spec = new { } } },
            spec = new { steps = 2 },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var jobs = (await ServiceStack.ReadJsonAsync(response))["jobs"]!.AsArray();
        Assert.Equal(["peers:align_clip-seed1", "peers:align_clip-seed2", "peers:tpccma-alpha0.2-seed1", "peers:tpccma-alpha0.2-seed2",
                "peers:tpccma-alpha0.5-seed1", "peers:tpccma-alpha0.5-seed2"],
            jobs.Select(j => j!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var align = jobs.Where(j => j!["name"]!.GetValue<string>().Contains("align_clip")).ToList();
        Assert.All(align, j => Assert.Equal("align_clip", j!["spec"]!["method"]!.GetValue<string>()));
        Assert.All(align, j => Assert.Equal(0.5, j!["spec"]!["align_clip_weight"]!.GetValue<double>()));
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
        Assert.Equal(["base", "base + mean-centering", "base + mean-centering + noise (C3)", "base", "base + mean-centering", "base + mean-centering + noise (C3)",
                "alpha_target 0", "alpha_target 0.6", "alpha_target 0", "alpha_target 0.6"],
            table["rows"]!.AsArray().Select(r => r!["model"]!.GetValue<string>()));

        // Each model over the two seeds: a mean inside its interval, and reductions paired with the same seed's base.
        var summary = table["summary"]!.AsArray();
        Assert.Equal(["base", "base_centered", "base_centered_noise", "align", "align"], summary.Select(r => r!["model"]!.GetValue<string>()));
        foreach (var row in summary)
        {
            Assert.Equal(2, row!["seeds"]!.GetValue<int>());
            var raw = row["metrics"]!["gap_raw"]!;
            Assert.InRange(raw["value"]!.GetValue<double>(), raw["low"]!.GetValue<double>(), raw["high"]!.GetValue<double>());
        }
        var centered = summary[1]!;
        Assert.Equal(0, centered["metrics"]!["gap_centroid"]!["value"]!.GetValue<double>(), 1e-9);
        Assert.Equal(0, centered["changes"]!["gap_distribution"]!["value"]!.GetValue<double>(), 1e-6);
        // C3's noise moves the centred clouds: its centroid gap is no longer exactly 0, but small beside the base's.
        var c3 = summary[2]!;
        Assert.InRange(c3["metrics"]!["gap_centroid"]!["value"]!.GetValue<double>(), 1e-9, 0.5 * summary[0]!["metrics"]!["gap_centroid"]!["value"]!.GetValue<double>());
        Assert.True(summary[4]!["reductions"]!["gap_raw"]!["value"]!.GetValue<double>() > summary[3]!["reductions"]!["gap_raw"]!["value"]!.GetValue<double>(),
            "a larger alpha_target closes more gap");
        Assert.Contains(table["fits"]!.AsArray(), f => f!["gap"]!.GetValue<string>() == "distribution" && f["models"]!.GetValue<int>() == 10);
        var comparison = table["comparisons"]!.AsArray().Single(c => c!["metric"]!.GetValue<string>() == "joint_ari")!;
        Assert.Equal(10, comparison["points"]!.GetValue<int>());
        Assert.NotNull(comparison["difference"]!["low"]);

        var results = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/sweeps/{sweep["id"]}/results.json"));
        Assert.Equal(["dataset", "seeds", "alpha_targets", "splits"], results.Select(p => p.Key));
        Assert.Equal([5L, 6L], results["seeds"]!.AsArray().Select(s => s!.GetValue<long>()));
        Assert.Equal([0.0, 0.6], results["alpha_targets"]!.AsArray().Select(s => s!.GetValue<double>()));
        Assert.False(string.IsNullOrEmpty(results["dataset"]!.GetValue<string>()));
        var resultRows = results["splits"]!["test"]!["rows"]!.AsArray();
        Assert.Equal(10, resultRows.Count);
        Assert.Equal(["model", "alpha_target", "seed", "metrics", "method"], resultRows[0]!.AsObject().Select(p => p.Key));
        Assert.All(resultRows, r => Assert.Null(r!["method"]));   // a sweep without methods names none
        Assert.Equal(["base", "base_centered", "base_centered_noise", "base", "base_centered", "base_centered_noise", "align", "align", "align", "align"],
            resultRows.Select(r => r!["model"]!.GetValue<string>()));
        var align = resultRows[6]!;
        Assert.Equal(0.0, align["alpha_target"]!.GetValue<double>());
        foreach (var metric in new[] { "gap_raw", "gap_centroid", "gap_distribution", "zero_shot_top1", "joint_ari", "cider_image_to_text", "cider_text_to_text", "gap_mismatch",
                     "cider_image_to_text_decap", "participation_ratio_pooled", "effective_rank_pooled" })
            Assert.True(align["metrics"]![metric] is not null, $"results.json rows lack {metric}");
        Assert.Null(resultRows[0]!["alpha_target"]);
    }

    [Fact]
    public async Task Sweep_WithTwoMethods_RunsEachMethodPerSeed_AndGroupsTheReportByMethod()
    {
        await stack.StartWorkerAsync("node-a");
        var response = await client.PostAsJsonAsync("/v1/sweeps", new
        {
            name = "methods", base_model = model, dataset, alpha_targets = new[] { 0.4 }, seeds = new[] { 1L, 2L },
            methods = new object[]
            {
                new { name = "tpccma-pairwise", spec = new { cma = "pairwise" } },
                new { name = "clip-refine", spec = new { method = "clip_refine", clip_refine_alpha = 0.7 } },
            },
            spec = new { steps = 6, batch_size = 16, lr = 1e-4, log_every = 3, eval = new { captioning_steps = 6, captioning_seeds = 1, train_sample = 0, at_phase_boundaries = false } },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var sweep = await ServiceStack.ReadJsonAsync(response);
        var jobs = sweep["jobs"]!.AsArray();
        Assert.Equal(["methods:clip-refine-seed1", "methods:clip-refine-seed2", "methods:tpccma-pairwise-alpha0.4-seed1", "methods:tpccma-pairwise-alpha0.4-seed2"],
            jobs.Select(j => j!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var refine = jobs.Where(j => j!["name"]!.GetValue<string>().Contains("clip-refine")).ToList();
        Assert.All(refine, j => Assert.Equal("clip_refine", j!["spec"]!["method"]!.GetValue<string>()));
        Assert.All(refine, j => Assert.Equal(0.7, j!["spec"]!["clip_refine_alpha"]!.GetValue<double>()));

        foreach (var job in jobs)
        {
            var finished = await ServiceStack.WaitForStatusAsync(client, job!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(300), "succeeded", "failed");
            Assert.True(finished["status"]!.GetValue<string>() == "succeeded", finished.ToJsonString());
        }
        var done = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/sweeps/{sweep["id"]}"));
        var table = done["report"]!.AsArray().Single(t => t!["split"]!.GetValue<string>() == "test")!;
        Assert.Equal(["base", "base + mean-centering", "base + mean-centering + noise (C3)", "base", "base + mean-centering", "base + mean-centering + noise (C3)", "clip-refine", "clip-refine",
                "tpccma-pairwise, alpha_target 0.4", "tpccma-pairwise, alpha_target 0.4"],
            table["rows"]!.AsArray().Select(r => r!["model"]!.GetValue<string>()));
        var summary = table["summary"]!.AsArray();
        Assert.Equal([null, null, null, "clip-refine", "tpccma-pairwise"], summary.Select(r => r!["method"]?.GetValue<string>()));
        Assert.All(summary, r => Assert.Equal(2, r!["seeds"]!.GetValue<int>()));
        Assert.Null(summary[3]!["alpha_target"]);
        Assert.Equal(0.4, summary[4]!["alpha_target"]!.GetValue<double>());

        var results = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/sweeps/{sweep["id"]}/results.json"));
        var rows = results["splits"]!["test"]!["rows"]!.AsArray();
        Assert.Equal([null, null, null, null, null, null, "clip-refine", "tpccma-pairwise", "clip-refine", "tpccma-pairwise"],
            rows.Select(r => r!["method"]?.GetValue<string>()));
        Assert.Equal([1L, 1L, 2L, 2L], rows.Skip(6).Select(r => r!["seed"]!.GetValue<long>()).Order());
    }
}
