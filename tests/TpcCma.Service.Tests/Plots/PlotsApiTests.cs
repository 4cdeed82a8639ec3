using System.Net;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Service.Persistence;
using TpcCma.Service.Plots;

namespace TpcCma.Service.Tests.Plots;

/// <summary>
/// <c>GET /v1/jobs/{id}/plots/{name}.png</c> renders headless on Linux (SkiaSharp natives present) and draws the
/// job's own curves. The curves are written straight into the job's metric table, as the progress writer does,
/// so no training run is needed to exercise the rendering.
/// </summary>
public sealed class PlotsApiTests() : StoredJobPlotTests("plots")
{
    /// <summary>30 steps: anchor 1-5, ramp 6-15, consolidate 16-30; an evaluation before, at the ramp's end and at the end.</summary>
    private async Task WriteCurvesAsync(bool withPhases)
    {
        await using var db = Database();
        var id = Guid.Parse(JobId);
        var points = new List<MetricPoint>();
        for (var step = 1; step <= 30; step++)
        {
            var alpha = step <= 5 ? 0 : step <= 15 ? 0.5 * (step - 5) / 10.0 : 0.5;
            points.Add(new MetricPoint { JobId = id, Name = "loss", Step = step, Value = 3.0 / step + 0.2 });
            points.Add(new MetricPoint { JobId = id, Name = "clip", Step = step, Value = 2.5 / step + 0.2 });
            points.Add(new MetricPoint { JobId = id, Name = "cma", Step = step, Value = 0.8 - 0.02 * step });
            points.Add(new MetricPoint { JobId = id, Name = "alpha", Step = step, Value = alpha });
            points.Add(new MetricPoint { JobId = id, Name = "a", Step = step, Value = 2.0 });
            points.Add(new MetricPoint { JobId = id, Name = "b", Step = step, Value = 0.5 + 0.01 * step });
            if (withPhases) points.Add(new MetricPoint { JobId = id, Name = "phase", Step = step, Value = step <= 5 ? 1 : step <= 15 ? 2 : 3 });
        }
        foreach (var (step, gap) in new[] { (0, 0.9), (15, 0.7), (30, 0.45) })
        {
            points.Add(new MetricPoint { JobId = id, Name = "eval/test/gap_raw", Step = step, Value = gap });
            points.Add(new MetricPoint { JobId = id, Name = "eval/test/zero_shot_top1", Step = step, Value = 0.5 });
        }
        db.Metrics.AddRange(points);
        await db.SaveChangesAsync();
    }

    /// <summary>Pixels within a few levels of a phase's fill blended over the white plot area.</summary>
    private static int PixelsShadedAs(Image<Rgba32> image, int phase)
    {
        var c = JobPlots.PhaseShades[phase - 1].Color;
        double a = c.A / 255.0;
        var (r, g, b) = (255 * (1 - a) + c.R * a, 255 * (1 - a) + c.G * a, 255 * (1 - a) + c.B * a);
        var count = 0;
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
                foreach (var p in rows.GetRowSpan(y))
                    if (Math.Abs(p.R - r) <= 3 && Math.Abs(p.G - g) <= 3 && Math.Abs(p.B - b) <= 3) count++;
        });
        return count;
    }

    [Fact]
    public async Task Plots_RenderEachNamedPngWithCurves_ForTheOwner()
    {
        await WriteCurvesAsync(withPhases: true);
        foreach (var name in JobPlots.Names)
        {
            using var image = await GetPngAsync(Client, name);
            Assert.Equal((900, 500), (image.Width, image.Height));
            Assert.True(DistinctColours(image) > 50, $"{name}.png looks blank");
        }
        using var sized = await GetPngAsync(Client, "losses", "?width=640&height=360");
        Assert.Equal((640, 360), (sized.Width, sized.Height));
    }

    [Fact]
    public async Task LossesAndAlpha_ShadeTheThreePhases_WhenThePhaseCurveExists()
    {
        using var blank = await GetPngAsync(Client, "losses");
        await WriteCurvesAsync(withPhases: false);
        using var unshaded = await GetPngAsync(Client, "losses");
        Assert.True(DistinctColours(unshaded) > DistinctColours(blank), "curves drawn on the plot");
        Assert.All(new[] { 1, 2, 3 }, phase => Assert.True(PixelsShadedAs(unshaded, phase) < 200));

        await using (var db = Database())
        {
            var id = Guid.Parse(JobId);
            db.Metrics.AddRange(Enumerable.Range(1, 30).Select(step => new MetricPoint { JobId = id, Name = "phase", Step = step, Value = step <= 5 ? 1 : step <= 15 ? 2 : 3 }));
            await db.SaveChangesAsync();
        }
        foreach (var name in new[] { "losses", "alpha" })
        {
            using var shaded = await GetPngAsync(Client, name);
            // Ramp spans a third of the x range and consolidate half of it: thousands of tinted pixels each.
            Assert.All(new[] { 1, 2, 3 }, phase => Assert.True(PixelsShadedAs(shaded, phase) > 2000, $"{name}: phase {phase} not shaded"));
        }
    }

    [Fact]
    public async Task Plot_IsNotFound_ForAnotherKeysJob_AndInvalid_ForUnknownNameOrSize()
    {
        using var stranger = Stack.Client(await Stack.CreateUserKeyAsync("stranger"));
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/v1/jobs/{JobId}/plots/losses.png")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/v1/jobs/{Guid.NewGuid()}/plots/losses.png")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Stack.Client(null).GetAsync($"/v1/jobs/{JobId}/plots/losses.png")).StatusCode);

        var unknown = await Client.GetAsync($"/v1/jobs/{JobId}/plots/histogram.png");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("name", (await ServiceStack.ReadJsonAsync(unknown))["errors"]!.AsObject().Select(e => e.Key));
        var tiny = await Client.GetAsync($"/v1/jobs/{JobId}/plots/losses.png?width=10");
        Assert.Equal(HttpStatusCode.BadRequest, tiny.StatusCode);
        Assert.Contains("width", (await ServiceStack.ReadJsonAsync(tiny))["errors"]!.AsObject().Select(e => e.Key));
    }
}
