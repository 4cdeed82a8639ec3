using System.Net;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>One deployment, with no worker, for every test of <see cref="SweepRequestTests"/>: they only create sweeps.</summary>
public sealed class SweepRequestDeployment() : UserDeployment("sweep-requests", shapes: 24);

/// <summary>What <c>POST /v1/sweeps</c> accepts and refuses, and the grid it expands; no sweep here runs.</summary>
public sealed class SweepRequestTests(SweepRequestDeployment deployment) : IClassFixture<SweepRequestDeployment>
{
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
        var stored = await deployment.CountAsync("/v1/sweeps");
        var body = JsonNode.Parse(extra)!.AsObject();
        body["base_model"] = deployment.Model;
        body["dataset"] = deployment.Dataset;
        var response = await deployment.Client.PostAsync("/v1/sweeps", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"expected an error on {field}, got {errors.ToJsonString()}");
        Assert.Equal(stored, await deployment.CountAsync("/v1/sweeps"));
    }

    [Fact]
    public async Task CreateSweep_WithoutAGrid_RunsTheDefaultGridOnce()
    {
        var response = await deployment.Client.PostAsJsonAsync("/v1/sweeps", new { base_model = deployment.Model, dataset = deployment.Dataset, spec = new { seed = 3, steps = 2 } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var sweep = await ServiceStack.ReadJsonAsync(response);
        Assert.Equal([0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7], sweep["alpha_targets"]!.AsArray().Select(a => a!.GetValue<double>()));
        Assert.Equal([3L], sweep["seeds"]!.AsArray().Select(a => a!.GetValue<long>()));
        Assert.Equal(8, sweep["jobs"]!.AsArray().Count);
    }

    [Fact]
    public async Task CreateSweep_WithAlignClip_MakesOneJobPerSeed_WithoutAlpha()
    {
        var response = await deployment.Client.PostAsJsonAsync("/v1/sweeps", new
        {
            name = "peers", base_model = deployment.Model, dataset = deployment.Dataset, alpha_targets = new[] { 0.2, 0.5 }, seeds = new[] { 1L, 2L },
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
}
