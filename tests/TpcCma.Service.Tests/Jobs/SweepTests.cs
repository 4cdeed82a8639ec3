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
    [InlineData("""[1.0]""", "alpha_targets")]
    [InlineData("""[0.1, 0.1]""", "alpha_targets")]
    [InlineData("""[]""", "alpha_targets")]
    public async Task CreateSweep_InvalidAlphaTargets_Returns400(string alphas, string field)
    {
        var body = $$"""{"base_model": "{{model}}", "dataset": "{{dataset}}", "alpha_targets": {{alphas}}}""";
        var response = await client.PostAsync("/v1/sweeps", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject().ContainsKey(field));
    }

    [Fact]
    public async Task Sweep_RunsOneJobPerAlpha_AndReportsTheTradeOffTable()
    {
        await stack.StartWorkerAsync("node-a");
        var response = await client.PostAsJsonAsync("/v1/sweeps", new
        {
            name = "tiny-sweep", base_model = model, dataset, alpha_targets = new[] { 0.0, 0.3, 0.6 },
            spec = new { steps = 12, batch_size = 16, lr = 1e-4, log_every = 4, seed = 5, eval = new { captioning_steps = 10, train_sample = 0, at_phase_boundaries = false } },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var sweep = await ServiceStack.ReadJsonAsync(response);
        var jobs = sweep["jobs"]!.AsArray();
        Assert.Equal([0.0, 0.3, 0.6], jobs.Select(j => j!["spec"]!["alpha_target"]!.GetValue<double>()));
        Assert.Single(jobs.Select(j => j!["seed"]!.GetValue<long>()).Distinct());

        foreach (var job in jobs)
            await ServiceStack.WaitForStatusAsync(client, job!["id"]!.GetValue<string>(), TimeSpan.FromSeconds(300), "succeeded");
        var get = await client.GetAsync($"/v1/sweeps/{sweep["id"]}");
        Assert.True(get.IsSuccessStatusCode, await get.Content.ReadAsStringAsync());
        var done = await ServiceStack.ReadJsonAsync(get);
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        var table = done["report"]!.AsArray().Single(t => t!["split"]!.GetValue<string>() == "test")!;
        var rows = table["rows"]!.AsArray();
        Assert.Equal(["base", "base + mean-centering", "alpha_target 0", "alpha_target 0.3", "alpha_target 0.6"],
            rows.Select(r => r!["model"]!.GetValue<string>()));
        // Mean-centering removes most of the centroid gap (renormalising afterwards leaves a little).
        Assert.True(rows[1]!["gap_centroid"]!.GetValue<double>() < 0.5 * rows[0]!["gap_centroid"]!.GetValue<double>());
        Assert.True(rows[4]!["gap_raw"]!.GetValue<double>() < rows[2]!["gap_raw"]!.GetValue<double>(), "a larger alpha_target closes more gap");
        Assert.Contains(table["fits"]!.AsArray(), f => f!["gap"]!.GetValue<string>() == "distribution" && f["models"]!.GetValue<int>() == 5);
    }
}
