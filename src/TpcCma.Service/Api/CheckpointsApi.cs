using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using TpcCma.Service.Auth;
using TpcCma.Service.Hosting;
using TpcCma.Service.Jobs;
using TpcCma.Service.Persistence;
using TpcCma.Service.Storage;
using TpcCma.Training;

namespace TpcCma.Service.Api;

/// <summary><c>/v1/jobs/{id}/checkpoints</c>: list a job's checkpoints and download them as OpenCLIP safetensors or a Hugging Face folder (tar).</summary>
public static class CheckpointsApi
{
    public static RouteGroupBuilder MapCheckpointsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/jobs/{id:guid}/checkpoints").WithTags("Checkpoints").RequireAuthorization();
        api.MapGet("/", List).WithSummary("Checkpoints of a job, oldest first");
        api.MapGet("/{step}/download", Download)
            .WithSummary("Download a checkpoint ('latest' or a step number)")
            .WithDescription("format=openclip (default): OpenAI/OpenCLIP-layout .safetensors; format=hf: a tar of a Hugging Face CLIP folder "
                + "(CLIPModel/CLIPProcessor.from_pretrained). Content-Length, ETag (sha256) and Range requests are supported, so interrupted downloads resume.");
        return api;
    }

    public static async Task<Results<Ok<List<CheckpointResponse>>, NotFound<ProblemDetails>>> List(Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct)
    {
        if (!await JobProgressApi.VisibleAsync(db, user, id, ct)) return JobsApi.NotFoundProblem("job", id);
        var rows = await db.Checkpoints.AsNoTracking().Where(c => c.JobId == id).OrderBy(c => c.Step).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(c => new CheckpointResponse(c.Step, c.Phase, c.SizeBytes, c.Sha256, c.CreatedAt, CheckpointExports.Formats)).ToList());
    }

    public static async Task<Results<PhysicalFileHttpResult, FileStreamHttpResult, NotFound<ProblemDetails>, ValidationProblem>> Download(
        Guid id, string step, ClaimsPrincipal user, TrainingDb db, ArtifactPaths paths, CheckpointExports exports, JobArtifactSync artifacts,
        CancellationToken ct, string format = "openclip")
    {
        if (!CheckpointExports.Formats.Contains(format))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["format"] = [$"must be one of {string.Join(", ", CheckpointExports.Formats)}"] });
        long? wanted = null;
        if (step != "latest")
        {
            if (!long.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["step"] = ["must be 'latest' or a step number"] });
            wanted = parsed;
        }
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct);
        if (job is null || !user.CanSee(job.OwnerKeyId)) return JobsApi.NotFoundProblem("job", id);
        var checkpoints = db.Checkpoints.AsNoTracking().Where(c => c.JobId == id);
        var checkpoint = wanted is null
            ? await checkpoints.OrderByDescending(c => c.Step).FirstOrDefaultAsync(ct)
            : await checkpoints.FirstOrDefaultAsync(c => c.Step == wanted, ct);
        if (checkpoint is null)
            return TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "Unknown checkpoint", Detail = $"job {id} has no checkpoint {step}" });

        var name = $"{job.Name}-step{checkpoint.Step}";
        var weightsKey = $"{checkpoint.Location}/{CheckpointStore.WeightsFile}";
        if (format == "openclip" && artifacts.Shared && !File.Exists(paths.Resolve(weightsKey)))
        {
            // Written on another node: streamed from the shared store, ranges included, without a copy here.
            var stored = await artifacts.Store.GetInfoAsync(weightsKey, ct);
            if (stored is null)
                return TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "Checkpoint not stored", Detail = $"checkpoint {checkpoint.Step} of job {id} is not in the artifact store" });
            return TypedResults.Stream(new ArtifactReadStream(artifacts.Store, weightsKey, stored.Size), "application/octet-stream", $"{name}.safetensors",
                stored.LastModified, new EntityTagHeaderValue($"\"{stored.Sha256 ?? checkpoint.Sha256}\""), enableRangeProcessing: true);
        }
        // The Hugging Face export is converted here, from a copy fetched once when the checkpoint is not local.
        var directory = await artifacts.FetchCheckpointAsync(id, checkpoint.Location, ct);
        var file = await exports.GetAsync(directory, paths.TokenizerDirectory(id), format, name, ct);
        return TypedResults.PhysicalFile(file.Path, file.ContentType, file.FileName, enableRangeProcessing: true,
            entityTag: new EntityTagHeaderValue($"\"{file.Sha256}\""));
    }
}
