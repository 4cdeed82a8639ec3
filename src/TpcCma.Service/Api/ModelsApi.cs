using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TpcCma.Checkpoints;
using TpcCma.Model;
using TpcCma.Service.Auth;
using TpcCma.Service.Hosting;
using TpcCma.Service.Operations;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Api;

/// <summary><c>/v1/models</c>: models jobs start from. Imported from the data root or a hub, a preset, or registered by a finished job.</summary>
public static class ModelsApi
{
    /// <summary>Whether this build has TorchSharp's native libraries (the API image does not: docs/DEPLOY.md).</summary>
    private static readonly Lazy<bool> TorchHere = new(NativeTorch.ShipsNativeGlue);

    /// <summary>
    /// <c>reference</c>: <c>hf:ORG/NAME[@REVISION]</c> (downloaded from the configured hub), <c>preset:NAME</c> (random
    /// initialisation), or a path under the data root to a Hugging Face CLIP folder or an OpenCLIP <c>.safetensors</c>.
    /// </summary>
    public sealed record CreateModelRequest
    {
        /// <example>clip-tiny</example>
        public string? Name { get; init; }
        /// <example>preset:tiny</example>
        public string Reference { get; init; } = "";
    }

    /// <summary>
    /// A registered model. <c>reference</c> says what it was registered from, never a path on a node: <c>hf:ORG/NAME</c>,
    /// the preset's name, the path relative to the data root, or <c>job:ID</c> for a finished job's model.
    /// </summary>
    public sealed record ModelResponse(Guid Id, string Name, string Source, string Reference, Guid? Job, DateTimeOffset CreatedAt)
    {
        public string Object => "model";

        public static ModelResponse From(ModelRecord m) => new(m.Id, m.Name, m.Source, PublicReference(m), m.JobId, m.CreatedAt);

        private static string PublicReference(ModelRecord m) => m.Source switch
        {
            "job" => $"job:{m.JobId}",
            // Imports stored with the node's absolute path (before references were kept node-free) show their name only.
            "import" when Path.IsPathRooted(m.Reference) => Path.GetFileName(Path.TrimEndingDirectorySeparator(m.Reference)),
            _ => m.Reference,
        };
    }

    public static RouteGroupBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models").WithTags("Models").RequireAuthorization();
        api.MapPost("/", Create).WithSummary("Import a model (hf:, preset:, or a path under the data root); it is loaded once to check it")
            .WithDescription("A preset answers 201 with the model; so does a path under the data root on a node with libtorch (it is loaded once to "
                + "check it). An `hf:` reference, and a path on an API node without libtorch, answer 202 Accepted with a "
                + "model-import operation (`Location: /v1/operations/{id}`): a worker downloads and checks the model, and the succeeded operation's "
                + "`result.model` is the new model's id.");
        api.MapGet("/", List).WithSummary("List models, including those finished jobs registered")
            .WithDescription("Newest first, in pages of `limit` (default 50, at most 500); when `has_more`, pass `next` as `?cursor=`. `reference` is never a path on a node.");
        api.MapGet("/{id:guid}", Get).WithSummary("A model");
        return api;
    }

    public static async Task<Results<Created<ModelResponse>, Accepted<OperationResponse>, ValidationProblem>> Create(
        CreateModelRequest request, ClaimsPrincipal user, TrainingDb db, ServiceOptions options, HubSettings hub, OperationStarter operations, TimeProvider time, CancellationToken ct)
    {
        if (HubReference.IsHubReference(request.Reference))
        {
            // A hub model may be gigabytes: a worker downloads and checks it. What can be refused without it is refused here.
            try
            {
                _ = HubReference.Parse(request.Reference);
                new HubDownloader(hub.Options).CheckBaseUrl();
            }
            catch (ArgumentException ex)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["reference"] = [ex.Message] });
            }
            var input = ModelImportHandler.Input(request.Reference, request.Name ?? request.Reference, Guid.CreateVersion7());
            return OperationsApi.Accept(await operations.StartAsync(db, OperationKinds.ModelImport, user.KeyId(), input, subject: null, ct));
        }
        string reference, source;
        try
        {
            (reference, source) = request.Reference switch
            {
                var r when r.StartsWith("preset:", StringComparison.Ordinal) && ClipConfig.IsPreset(r[7..]) => (r[7..], "preset"),
                var r when r.StartsWith("preset:", StringComparison.Ordinal) => throw new ArgumentException($"unknown preset; presets: {string.Join(", ", ClipConfig.PresetNames)}"),
                var r => (DataRootPaths.Resolve(Path.GetFullPath(options.DataRoot), r), "import"),
            };
            if (source == "import")
            {
                // An import is stored relative to the data root: each node resolves it under its own root when a job starts.
                var relative = Path.GetRelativePath(Path.GetFullPath(options.DataRoot), reference);
                // An API node without libtorch (the API image) hands the check to a worker, as it does for hub models.
                if (!TorchHere.Value)
                    return OperationsApi.Accept(await operations.StartAsync(db, OperationKinds.ModelImport, user.KeyId(),
                        ModelImportHandler.Input(relative, request.Name ?? request.Reference, Guid.CreateVersion7(), source), subject: null, ct));
                // Load once on a worker thread (TorchSharp scopes are per thread): refuse what a job could not load later.
                await Task.Run(async () => { using var _ = await ModelLoader.LoadAsync(reference, new ModelLoadOptions(Hub: hub.Options), ct); }, ct);
                reference = relative;
            }
            // A preset is random initialisation from a named architecture: nothing to load before a job builds it.
        }
        catch (Exception ex) when (ex is ArgumentException or FileNotFoundException or InvalidDataException or HttpRequestException or IOException)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["reference"] = [ex.Message] });
        }
        var record = new ModelRecord
        {
            Id = Guid.CreateVersion7(), OwnerKeyId = user.KeyId(), Name = request.Name ?? request.Reference, Source = source,
            Reference = reference, CreatedAt = time.GetUtcNow(),
        };
        db.Models.Add(record);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/models/{record.Id}", ModelResponse.From(record));
    }

    public static async Task<Results<Ok<ListResponse<ModelResponse>>, ValidationProblem>> List(ClaimsPrincipal user, TrainingDb db, CancellationToken ct,
        int? limit = null, string? cursor = null)
    {
        var (after, problem) = ListPaging.Parse(cursor);
        if (problem is not null) return problem;
        var take = ListPaging.Limit(limit);
        var query = db.Models.AsNoTracking();
        if (!user.IsAdmin()) query = query.Where(m => m.OwnerKeyId == user.KeyId());
        if (after is not null) query = query.Where(m => m.CreatedAt < after.CreatedAt || (m.CreatedAt == after.CreatedAt && m.Id.CompareTo(after.Id) < 0));
        var rows = await query.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListPaging.Page(rows, take, m => new ListPaging.Cursor(m.CreatedAt, m.Id), ModelResponse.From));
    }

    public static async Task<Results<Ok<ModelResponse>, NotFound<ProblemDetails>>> Get(Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct)
    {
        var row = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct);
        return row is not null && user.CanSee(row.OwnerKeyId) ? TypedResults.Ok(ModelResponse.From(row)) : JobsApi.NotFoundProblem("model", id);
    }
}
