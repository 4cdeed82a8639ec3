using System.Net;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Evaluation;
using TpcCma.Service.Jobs;
using TpcCma.Service.Persistence;
using static TorchSharp.torch;

namespace TpcCma.Service.Tests.Plots;

/// <summary>
/// <c>GET /v1/jobs/{id}/plots/embeddings.png</c> draws the maps the evaluation events carry. The events are written
/// into the job's event table as the progress writer writes them, with maps computed by the real code.
/// </summary>
public sealed class EmbeddingPlotTests() : StoredJobPlotTests("maps")
{
    /// <summary>base: the two modalities apart; final: moved together. Each with a held-out split and a train split.</summary>
    private async Task WriteEvaluationsAsync()
    {
        await using var db = Database();
        var id = Guid.Parse(JobId);
        foreach (var (step, label, offset) in new[] { (0L, "base", 3.0), (30L, "final", 0.2) })
            foreach (var split in new[] { "test", "train" })
            {
                var report = Report(split, offset);
                db.Events.Add(new JobEvent
                {
                    JobId = id, Kind = JobEventKind.Evaluation, Step = step, Message = $"evaluation {label} on {split}", CreatedAt = DateTimeOffset.UtcNow,
                    Data = JsonSerializer.Serialize(new { label, report }, JobProgressWriter.JsonOptions),
                });
            }
        await db.SaveChangesAsync();
    }

    private static EvaluationReport Report(string split, double textOffset)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(1).manual_seed(7);
        var image = randn(60, 16, generator: generator);
        var text = image + 0.3 * randn(60, 16, generator: generator) + textOffset;
        var labels = Enumerable.Range(0, 60).Select(i => i % 3).ToArray();
        var gaps = new GapMeasures(0, 0, 0, 0, 0, 0, 0);
        return new EvaluationReport("m", split, 60, 16, gaps, gaps, new GapReduction(0, 0, 0), null, null,
            new RetrievalResult(0, 0, 0, 0, 60, 60), null, null, new EvaluationTimings(0, null, null, 0, null, null))
        {
            Map = EmbeddingMaps.Compute(image, text, labels),
        };
    }

    private Task<Image<Rgba32>> GetPngAsync(string query = "") => GetPngAsync(Client, "embeddings", query);

    [Fact]
    public async Task Embeddings_DrawsEveryEvaluationOrOne_ColouredByClass()
    {
        using var before = await GetPngAsync();   // no evaluation yet: a picture that says so, not an error
        await WriteEvaluationsAsync();
        using var all = await GetPngAsync();
        Assert.Equal((1200, 700), (all.Width, all.Height));
        Assert.True(DistinctColours(all) > DistinctColours(before) + 50, "the maps are drawn");
        using var final = await GetPngAsync("?evaluation=final&width=600&height=800");
        Assert.Equal((600, 800), (final.Width, final.Height));
        Assert.True(DistinctColours(final) > 50);
        using var train = await GetPngAsync("?split=train&evaluation=base");
        Assert.True(DistinctColours(train) > 50);
    }

    [Fact]
    public async Task Embeddings_NamesTheBadParameter_AndHidesOtherKeysJobs()
    {
        await WriteEvaluationsAsync();
        foreach (var (query, field) in new[] { ("?evaluation=ramp_end", "evaluation"), ("?split=validation", "split"), ("?width=50", "width") })
        {
            var response = await Client.GetAsync($"/v1/jobs/{JobId}/plots/embeddings.png{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(field, (await ServiceStack.ReadJsonAsync(response))["errors"]!.AsObject().Select(e => e.Key));
        }
        using var stranger = Stack.Client(await Stack.CreateUserKeyAsync("stranger"));
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/v1/jobs/{JobId}/plots/embeddings.png")).StatusCode);
    }
}
