using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TpcCma.Evaluation;
using TpcCma.Service.Auth;
using TpcCma.Service.Jobs;
using TpcCma.Service.Persistence;
using TpcCma.Service.Plots;

namespace TpcCma.Service.Api;

/// <summary><c>/v1/jobs/{id}/plots/embeddings.png</c>: PCA and t-SNE maps of held-out embeddings at each evaluation.</summary>
public static class EmbeddingPlotApi
{
    public static void MapEmbeddingPlot(this RouteGroupBuilder api) =>
        api.MapGet("/embeddings.png", Get)
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .WithSummary("PCA and t-SNE maps of held-out image and text embeddings, coloured by class, one column per evaluation")
            .WithDescription("evaluation picks one (base, base_centered, anchor_end, ramp_end, final); without it every evaluation is drawn, "
                + "base first. split defaults to the held-out split (the first a report lists). width and height are pixels (200-4000).");

    private sealed record EvaluationEvent(string Label, EvaluationReport Report);

    public static async Task<Results<FileContentHttpResult, NotFound<ProblemDetails>, ValidationProblem>> Get(
        Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct,
        string? evaluation = null, string? split = null, int width = 1200, int height = 700)
    {
        var errors = new Dictionary<string, string[]>();
        if (width is < 200 or > 4000) errors["width"] = ["must be 200-4000 pixels"];
        if (height is < 200 or > 4000) errors["height"] = ["must be 200-4000 pixels"];
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == id).Select(j => new { j.Name, j.OwnerKeyId }).FirstOrDefaultAsync(ct);
        if (job is null || !user.CanSee(job.OwnerKeyId)) return JobsApi.NotFoundProblem("job", id);

        var rows = await db.Events.AsNoTracking().Where(e => e.JobId == id && e.Kind == JobEventKind.Evaluation && e.Data != null)
            .OrderBy(e => e.Id).Select(e => e.Data!).ToListAsync(ct);
        var evaluations = rows.Select(r => JsonSerializer.Deserialize<EvaluationEvent>(r, JobProgressWriter.JsonOptions)!).ToList();
        // The held-out split is the first each evaluation reports (RunEvaluator's order).
        var chosenSplit = split ?? evaluations.FirstOrDefault()?.Report.Split ?? "";
        var labels = evaluations.Select(e => e.Label).Distinct().ToList();
        if (evaluation is not null && evaluations.Count > 0 && !labels.Contains(evaluation))
            errors["evaluation"] = [$"this job has no evaluation '{evaluation}'; it has {string.Join(", ", labels)}"];
        if (split is not null && evaluations.Count > 0 && !evaluations.Any(e => e.Report.Split == split))
            errors["split"] = [$"no evaluation of split '{split}'; evaluated: {string.Join(", ", evaluations.Select(e => e.Report.Split).Distinct())}"];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The plot request is invalid");

        // A resumed run may report an evaluation twice: the last one counts.
        var panels = evaluations
            .Where(e => e.Report.Split == chosenSplit && e.Report.Map is not null && (evaluation is null || e.Label == evaluation))
            .GroupBy(e => e.Label).Select(g => g.Last())
            .Select(e => new EmbeddingPlots.Panel(e.Label, e.Report.Map!))
            .ToList();
        var png = EmbeddingPlots.Render(job.Name, chosenSplit, panels, width, height);
        return TypedResults.File(png, "image/png");
    }
}
