using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TpcCma.Service.Auth;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Api;

/// <summary>
/// Checks that a bound request's resource ids name a model and a dataset this key may use (unknown or foreign ids are
/// 404). The stored spec names them by id only: the worker that runs the job resolves where they are on its node
/// (<see cref="Jobs.JobRuns"/>).
/// </summary>
public static class JobReferences
{
    public sealed record Resolution(JobDraft? Draft, ProblemHttpResult? Problem);

    public static async Task<Resolution> ResolveAsync(TrainingDb db, ClaimsPrincipal user, BoundJobRequest bound, CancellationToken ct)
    {
        var request = bound.Request;
        ModelRecord? model = null;
        if (request.BaseModel is { } modelId)
        {
            model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == modelId, ct);
            if (model is null || !user.CanSee(model.OwnerKeyId)) return NotFound("base_model", "model", modelId);
        }
        var datasetId = request.Dataset!.Value;
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == datasetId, ct);
        if (dataset is null || !user.CanSee(dataset.OwnerKeyId)) return NotFound("dataset", "dataset", datasetId);

        var spec = bound.Spec;
        var kind = JobRequestBinder.Kind(spec);
        var name = request.Name ?? $"{kind}-{dataset.Name}";
        return new Resolution(new JobDraft(name, kind, spec.ToJson(), request.Queue!, spec.Steps, spec.Seed, model?.Id, dataset.Id), null);
    }

    private static Resolution NotFound(string field, string what, Guid id) => new(null, TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound, title: $"Unknown {what}",
        detail: $"{field}: no {what} {id} visible to this API key",
        extensions: new Dictionary<string, object?> { ["field"] = field }));
}
