using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using TpcCma.Service.Plots;

namespace TpcCma.Service.Api;

/// <summary><c>/v1/jobs/{id}/plots/{name}.png</c>: the job's curves as PNG images, for reports and pipelines without a browser.</summary>
public static class PlotsApi
{
    public static RouteGroupBuilder MapPlotsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/jobs/{id:guid}/plots").WithTags("Jobs").RequireAuthorization();
        api.MapGet("/{name}.png", Get)
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .WithSummary("A plot of the job's curves as PNG: losses, alpha (with the pull ratio b/a) or gaps")
            .WithDescription("losses and alpha shade the curriculum's three phases. width and height are pixels (200-4000; default 900x500).");
        api.MapEmbeddingPlot();   // a literal segment: routed before {name}.png
        return api;
    }

    public static async Task<Results<FileContentHttpResult, NotFound<ProblemDetails>, ValidationProblem>> Get(
        Guid id, string name, ClaimsPrincipal user, TrainingDb db, CancellationToken ct, int width = 900, int height = 500)
    {
        var errors = new Dictionary<string, string[]>();
        if (!JobPlots.Names.Contains(name)) errors["name"] = [$"must be one of {string.Join(", ", JobPlots.Names)}"];
        if (width is < 200 or > 4000) errors["width"] = ["must be 200-4000 pixels"];
        if (height is < 200 or > 4000) errors["height"] = ["must be 200-4000 pixels"];
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == id).Select(j => new { j.Name, j.OwnerKeyId }).FirstOrDefaultAsync(ct);
        if (job is null || !user.CanSee(job.OwnerKeyId)) return JobsApi.NotFoundProblem("job", id);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The plot request is invalid");

        var metrics = name == "gaps"
            ? (await EvaluationCurvesAsync(db, id, ct)).Where(JobPlots.IsGapCurve).ToList()
            : await JobProgressApi.ReadMetricsAsync(db, id, JobPlots.MetricsFor(name), -1, ct);
        var png = JobPlots.Render(name, job.Name, metrics, width, height);
        return TypedResults.File(png, "image/png");
    }

    /// <summary>Only the <c>eval/*</c> curves: a long job has many training points and few evaluations.</summary>
    private static async Task<List<MetricSeries>> EvaluationCurvesAsync(TrainingDb db, Guid id, CancellationToken ct)
    {
        var points = await db.Metrics.AsNoTracking().Where(m => m.JobId == id && m.Name.StartsWith("eval/"))
            .OrderBy(m => m.Name).ThenBy(m => m.Step).Select(m => new { m.Name, m.Step, m.Value }).ToListAsync(ct);
        return points.GroupBy(p => p.Name)
            .Select(g => new MetricSeries(g.Key, g.Select(p => p.Step).ToArray(), g.Select(p => p.Value).ToArray()))
            .ToList();
    }
}
