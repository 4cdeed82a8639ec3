using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using TpcCma.Service.Jobs;
using TpcCma.Service.Operations;
using TpcCma.Training;

namespace TpcCma.Service.Api;

/// <summary>
/// <c>/v1/jobs/{id}/checkpoints</c>: list a job's checkpoints and download them as OpenCLIP safetensors or a Hugging Face
/// folder (tar), which a worker converts first (<see cref="OperationKinds.CheckpointConversion"/>).
/// </summary>
public static class CheckpointsApi
{
    public static RouteGroupBuilder MapCheckpointsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/jobs/{id:guid}/checkpoints").WithTags("Checkpoints").RequireAuthorization();
        api.MapGet("/", List).WithSummary("Checkpoints of a job, oldest first");
        api.MapGet("/{step}/download", Download)
            .WithSummary("Download a checkpoint ('latest' or a step number)")
            .WithDescription("format=openclip (default): OpenAI/OpenCLIP-layout .safetensors; format=hf: a tar of a Hugging Face CLIP folder "
                + "(CLIPModel/CLIPProcessor.from_pretrained). Content-Length, ETag (sha256) and Range requests are supported, so interrupted downloads resume. "
                + "The first hf request of a checkpoint answers 202 Accepted with a checkpoint-conversion operation (the same one while it runs): "
                + "a worker converts it; once the operation has succeeded the same request streams the tar.");
        return api;
    }

    public static async Task<Results<Ok<List<CheckpointResponse>>, NotFound<ProblemDetails>>> List(Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct)
    {
        if (!await JobProgressApi.VisibleAsync(db, user, id, ct)) return JobsApi.NotFoundProblem("job", id);
        var rows = await db.Checkpoints.AsNoTracking().Where(c => c.JobId == id).OrderBy(c => c.Step).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(c => new CheckpointResponse(c.Step, c.Phase, c.SizeBytes, c.Sha256, c.CreatedAt, CheckpointExports.Formats)).ToList());
    }

    public static async Task<Results<PhysicalFileHttpResult, FileStreamHttpResult, Accepted<OperationResponse>, NotFound<ProblemDetails>, ValidationProblem>> Download(
        Guid id, string step, ClaimsPrincipal user, TrainingDb db, ArtifactPaths paths, CheckpointExports exports, JobArtifactSync artifacts,
        OperationStarter operations, CancellationToken ct, string format = "openclip")
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
        var key = $"{checkpoint.Location}/{(format == "hf" ? CheckpointExports.HfTar : CheckpointStore.WeightsFile)}";
        if (artifacts.Shared && !File.Exists(paths.Resolve(key)) && await artifacts.Store.GetInfoAsync(key, ct) is { } stored)
        {
            // Written on another node: streamed from the shared store, ranges included, without a copy here.
            var fileName = format == "hf" ? $"{name}-hf.tar" : $"{name}.safetensors";
            return TypedResults.Stream(new ArtifactReadStream(artifacts.Store, key, stored.Size), format == "hf" ? "application/x-tar" : "application/octet-stream",
                fileName, stored.LastModified, EntityTag(stored.Sha256 ?? (format == "openclip" ? checkpoint.Sha256 : null)), enableRangeProcessing: true);
        }
        var directory = paths.Resolve(checkpoint.Location);
        ExportedFile file;
        if (format == "openclip")
        {
            if (artifacts.Shared && !File.Exists(Path.Combine(directory, CheckpointStore.WeightsFile)))
                return TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "Checkpoint not stored", Detail = $"checkpoint {checkpoint.Step} of job {id} is not in the artifact store" });
            file = await exports.OpenClipAsync(directory, name, ct);
        }
        else
        {
            var converted = await exports.ConvertedHfAsync(directory, name, ct);
            if (converted is null)
            {
                // Converting loads the whole model: a worker does it. Repeated requests share the operation until it ends.
                var operation = await operations.StartAsync(db, OperationKinds.CheckpointConversion, job.OwnerKeyId,
                    CheckpointConversionHandler.Input(id, checkpoint.Step, checkpoint.Location, name), CheckpointConversionHandler.Subject(id, checkpoint.Step), ct);
                return OperationsApi.Accept(operation);
            }
            file = converted;
        }
        return TypedResults.PhysicalFile(file.Path, file.ContentType, file.FileName, enableRangeProcessing: true,
            entityTag: new EntityTagHeaderValue($"\"{file.Sha256}\""));
    }

    private static EntityTagHeaderValue? EntityTag(string? sha256) => sha256 is null ? null : new EntityTagHeaderValue($"\"{sha256}\"");
}
