using System.Text.Json;
using Microsoft.Playwright;

namespace TpcCma.Service.Tests.Browser;

/// <summary>The dashboard in real headless Chromium against a real deployment running real (tiny) jobs.</summary>
[TakesAbout(seconds: 50)]
public sealed class DashboardTests(DashboardStack deployment, ITestOutputHelper output) : IClassFixture<DashboardStack>
{
    private const float WaitMs = 90_000;

    private static Task<int> PointsAsync(IPage page, string chart, int dataset) =>
        page.EvaluateAsync<int>("([id, i]) => Chart.getChart(id)?.data.datasets[i]?.data.length ?? 0", new object[] { chart, dataset });

    /// <summary>Pixels of a chart's canvas that are not transparent: the library drew something.</summary>
    private static Task<int> InkAsync(IPage page, string chart) => page.EvaluateAsync<int>(
        "id => { const c = document.getElementById(id); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;" +
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }", chart);

    [Fact]
    public async Task JobPage_ShowsCurvesPhasesReportAndCheckpoints_ForAFinishedJob()
    {
        var id = await deployment.Live.SubmitAsync("browser-finished", steps: 20);
        var job = await ServiceStack.WaitForStatusAsync(deployment.Live.Client, id, TimeSpan.FromSeconds(300), "succeeded", "failed");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());

        await using var context = await deployment.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        // Sign in through the form: a wrong key is refused with a message, the right one lists the job.
        await page.FillAsync("#api-key", "tpc_not_a_real_key");
        await page.ClickAsync("#sign-in button[type=submit]");
        await Assertions.Expect(page.Locator("#sign-in-error")).ToContainTextAsync("unknown");
        await page.FillAsync("#api-key", deployment.Live.Key);
        await page.ClickAsync("#sign-in button[type=submit]");
        await page.ClickAsync($"tr[data-job='{id}'] a");

        await page.WaitForFunctionAsync("() => (Chart.getChart('chart-losses')?.data.datasets[0].data.length ?? 0) >= 20", null, new() { Timeout = WaitMs });
        for (var i = 0; i < 3; i++) Assert.Equal(20, await PointsAsync(page, "chart-losses", i));   // total, contrastive, alignment
        Assert.Equal(20, await PointsAsync(page, "chart-alpha", 0));
        Assert.True(await PointsAsync(page, "chart-alpha", 1) > 0, "pull ratio b/a plotted");
        var phases = await page.EvaluateAsync<string[]>("() => Object.values(Chart.getChart('chart-losses').options.plugins.annotation.annotations).map(a => a.label.content)");
        Assert.Equal(["anchor", "ramp", "consolidate"], phases);
        Assert.True(await InkAsync(page, "chart-losses") > 5000, "the loss chart's canvas is empty");
        await Assertions.Expect(page.Locator("#job-step")).ToHaveTextAsync("20");
        await Assertions.Expect(page.Locator("#job-header [data-status]")).ToHaveTextAsync("succeeded");

        // The base and final embedding maps, side by side, rendered from the evaluations' maps.
        await Assertions.Expect(page.Locator("#embeddings-base")).ToBeVisibleAsync(new() { Timeout = WaitMs });
        await Assertions.Expect(page.Locator("#embeddings-final")).ToBeVisibleAsync(new() { Timeout = WaitMs });
        // Visible comes before loaded: wait for the picture itself, then check its size.
        await page.WaitForFunctionAsync("() => document.getElementById('embeddings-final').naturalWidth > 0", null, new() { Timeout = WaitMs });
        Assert.Equal(700, await page.EvaluateAsync<int>("() => document.getElementById('embeddings-final').naturalWidth"));

        // Checkpoint links download with the dashboard's cookie.
        var link = page.Locator("#job-checkpoints a", new() { HasText = "openclip" }).Last;
        var href = await link.GetAttributeAsync("href");
        var download = await context.APIRequest.GetAsync(href!);
        Assert.Equal(200, download.Status);
        Assert.Equal($"\"{JsonDocument.Parse((await deployment.Live.Client.GetStringAsync($"/v1/jobs/{id}/checkpoints"))).RootElement.EnumerateArray().Last().GetProperty("sha256").GetString()}\"",
            download.Headers["etag"]);

        var screenshot = Path.Combine(DashboardStack.Artifacts, "job-finished.png");
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        await File.WriteAllBytesAsync(Path.Combine(DashboardStack.Artifacts, "plot-losses.png"), await (await context.APIRequest.GetAsync($"/v1/jobs/{id}/plots/losses.png")).BodyAsync());
        output.WriteLine($"screenshot: {screenshot}");
    }

    [Fact]
    public async Task JobPage_UpdatesLiveFromTheStream_WhileTheJobRuns()
    {
        var id = await deployment.Live.SubmitAsync("browser-live", steps: 400, evaluate: false);
        var deadline = DateTime.UtcNow.AddSeconds(240);   // the base evaluation runs first
        while ((await ServiceStack.ReadJsonAsync(await deployment.Live.Client.GetAsync($"/v1/jobs/{id}")))["step"]!.GetValue<long>() < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the job did not start");
            await Task.Delay(250);
        }

        await using var context = await deployment.NewContextAsync();
        await context.AddCookiesAsync([new Cookie { Name = "tpccma_key", Value = deployment.Live.Key, Url = deployment.Live.Api.BaseUrl, SameSite = SameSiteAttribute.Strict }]);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/#/jobs/{id}");
        await Assertions.Expect(page.Locator("#job-step")).ToBeVisibleAsync();
        var first = long.Parse(await page.Locator("#job-step").TextContentAsync() ?? "0");
        var firstPoints = await PointsAsync(page, "chart-losses", 0);

        // No reload and no polling on this page: only the server-sent events can move these.
        await page.WaitForFunctionAsync("s => Number(document.getElementById('job-step').textContent) >= s + 3", first, new() { Timeout = WaitMs });
        await page.WaitForFunctionAsync("n => Chart.getChart('chart-losses').data.datasets[0].data.length > n", firstPoints, new() { Timeout = WaitMs });
        var later = long.Parse(await page.Locator("#job-step").TextContentAsync() ?? "0");
        output.WriteLine($"step on the page went {first} -> {later}");
        await page.ScreenshotAsync(new() { Path = Path.Combine(DashboardStack.Artifacts, "job-live.png"), FullPage = true });

        // Cancelling from the page: the new status arrives by the same stream.
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.ClickAsync("#cancel-job");
        await Assertions.Expect(page.Locator("#job-header [data-status]")).ToHaveTextAsync("cancelled", new() { Timeout = WaitMs });
    }

    [Fact]
    public async Task SweepPage_DrawsEachModelsIntervalOverSeeds_AsErrorBars()
    {
        // The chart needs finished jobs over two seeds, not good ones: the fewest steps and no caption decoders.
        var sweep = await deployment.Live.SubmitSweepAsync(new
        {
            name = "browser-sweep", alpha_targets = new[] { 0.0, 0.5 }, seeds = new[] { 1L, 2L },
            spec = new { steps = 4, batch_size = 16, lr = 1e-4, log_every = 2, eval = new { captioning = false, train_sample = 0, at_phase_boundaries = false } },
        });
        await deployment.Live.WaitForSweepAsync(sweep, TimeSpan.FromSeconds(300));

        await using var context = await deployment.NewContextAsync();
        await context.AddCookiesAsync([new Cookie { Name = "tpccma_key", Value = deployment.Live.Key, Url = deployment.Live.Api.BaseUrl, SameSite = SameSiteAttribute.Strict }]);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/#/sweeps/{sweep["id"]}");
        await page.WaitForFunctionAsync("() => (Chart.getChart('tradeoff-gap')?.data.datasets[0].data.length ?? 0) === 2", null, new() { Timeout = WaitMs });

        // Each aligned model's raw-gap reduction over the two seeds: a mean inside its interval, and the interval drawn.
        var points = await page.EvaluateAsync<double[][]>("() => Chart.getChart('tradeoff-gap').data.datasets[0].data.map(p => [p.x, p.y, p.yMin, p.yMax])");
        Assert.Equal([0.0, 0.5], points.Select(p => p[0]));
        Assert.All(points, p => Assert.InRange(p[1], p[2], p[3]));
        Assert.Contains(points, p => p[3] > p[2]);
        var accuracy = await page.EvaluateAsync<int>("() => Chart.getChart('tradeoff-accuracy').data.datasets[0].data.filter(p => Number.isFinite(p.yMin)).length");
        Assert.Equal(2, accuracy);
        // The bars are ink: the chart with its error bars draws more than the same chart with them taken away.
        var withBars = await InkAsync(page, "tradeoff-gap");
        await page.EvaluateAsync("() => { const c = Chart.getChart('tradeoff-gap'); c.data.datasets.forEach(d => d.data.forEach(p => { delete p.yMin; delete p.yMax; })); c.update('none'); }");
        Assert.True(withBars > await InkAsync(page, "tradeoff-gap"), "the error bars drew nothing");
        await Assertions.Expect(page.Locator("table.sweep-summary").First).ToContainTextAsync("±");
        await Assertions.Expect(page.Locator("table.sweep-comparisons").First).ToContainTextAsync("joint_ari");
        await page.ScreenshotAsync(new() { Path = Path.Combine(DashboardStack.Artifacts, "sweep-intervals.png"), FullPage = true });
    }
}
