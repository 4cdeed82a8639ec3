using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TpcCma.Data;
using TpcCma.Data.Shards;
using TpcCma.Data.Sources;
using TpcCma.Service.Auth;
using TpcCma.Service.Hosting;
using TpcCma.Service.Operations;
using TpcCma.Service.Persistence;
using TpcCma.Service.Storage;

namespace TpcCma.Service.Api;

/// <summary><c>/v1/datasets</c>: register a dataset (a path under the data root, a built-in source, or an uploaded archive), validated at the door.</summary>
public static class DatasetsApi
{
    /// <summary>Register a dataset. Exactly one of <c>path</c>, <c>builtin</c> or <c>shards</c>.</summary>
    public sealed record CreateDatasetRequest
    {
        /// <example>emoji</example>
        public string? Name { get; init; }
        /// <summary>A manifest, folder or archive under the service's data root (relative to it).</summary>
        public string? Path { get; init; }
        /// <summary>A built-in source: <c>{"kind": "synthetic-shapes", "count": 1000, "size": 32, "seed": 0}</c> or <c>{"kind": "emoji"}</c>.</summary>
        public BuiltinSource? Builtin { get; init; }
        /// <summary>
        /// WebDataset shards: a list or brace pattern (<c>"wds/{00000..00099}.tar"</c>, <c>"train=a-{0..9}.tar::test=b-0.tar"</c>) or an
        /// array of them; local shards relative to the data root, or <c>s3://bucket/key</c> read with the Storage:S3 settings.
        /// </summary>
        public JsonElement? Shards { get; init; }
        /// <summary><c>fail</c> (default): any bad sample refuses the dataset; <c>skip</c>: bad samples are left out and reported.</summary>
        public ValidationPolicy Policy { get; init; } = ValidationPolicy.Fail;
    }

    public sealed record BuiltinSource
    {
        public string Kind { get; init; } = "";
        public int Count { get; init; } = 1000;
        public int Size { get; init; } = 32;
        public int Seed { get; init; }
        public ShapeLabel ShapeLabels { get; init; } = ShapeLabel.ShapeAndColour;
        public string TrainStyle { get; init; } = "twitter";
        public string EvalStyle { get; init; } = "google";
        public EmojiLabel EmojiLabels { get; init; } = EmojiLabel.Category;
    }

    /// <summary>
    /// A registered dataset. For a WebDataset shard set, <c>shard_count</c> is its number of shards and <c>sample_count</c>
    /// is null until the full validation pass (the operation in <c>validation</c>) has counted them; other formats are
    /// counted when registered and have neither.
    /// </summary>
    public sealed record DatasetResponse(Guid Id, string Name, string Source, int? SampleCount, int ClassCount, JsonElement Report, DateTimeOffset CreatedAt,
        int? ShardCount = null, OperationReference? Validation = null)
    {
        public string Object => "dataset";

        public static DatasetResponse From(DatasetRecord d)
        {
            var report = JsonDocument.Parse(d.Report).RootElement;
            var shards = report.TryGetProperty("format", out var format) && format.ValueEquals("webdataset") ? report.GetProperty("shards").GetInt32() : (int?)null;
            var known = shards is null || (report.TryGetProperty("samples_known", out var k) && k.GetBoolean());
            var validation = report.TryGetProperty("validation", out var v) && v.TryGetProperty("operation", out var op) && op.TryGetGuid(out var opId)
                ? new OperationReference(opId) : null;
            return new(d.Id, d.Name, d.Source, known ? d.SampleCount : null, d.ClassCount, report, d.CreatedAt, shards, validation);
        }
    }

    /// <summary>An operation about this resource, to follow at <c>url</c> (<c>tpccma operations wait ID</c>).</summary>
    public sealed record OperationReference(Guid Id)
    {
        public string Object => "operation";
        public string Url => $"/v1/operations/{Id}";
    }

    public static RouteGroupBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/datasets").WithTags("Datasets").RequireAuthorization();
        api.MapPost("/", Create).WithSummary("Register a dataset from a path under the data root, a built-in source (synthetic-shapes, emoji) or WebDataset shards")
            .WithDescription("Shards (`shards`: a list or brace pattern, local under the data root or s3://) are checked on a bounded sample: "
                + "every local shard exists, up to 8 shards are opened and their first 32 samples read and decoded; problems are named `00001.tar!KEY.png`.");
        api.MapPost("/upload", Upload).Accepts<IFormFile>("application/octet-stream").WithMetadata(ArchiveUploadBody.Instance)
            .WithSummary("Upload a dataset archive (.tar, .tar.gz, .zip) holding a JSONL, CSV or COCO manifest and its images")
            .WithDescription("Query: name, policy (fail|skip), filename (tells the archive type). Every problem is listed with its archive entry or manifest line. "
                + "The body may be up to Datasets:MaxUploadBytes (413 over it); its entries may expand to Datasets:Archive:MaxTotalBytes in Datasets:Archive:MaxEntries entries.");
        api.MapGet("/", List).WithSummary("List datasets")
            .WithDescription("Newest first, in pages of `limit` (default 50, at most 500); when `has_more`, pass `next` as `?cursor=`.");
        api.MapGet("/{id:guid}", Get).WithSummary("A dataset with its validation report");
        api.MapPost("/{id:guid}/validation", Validate).WithSummary("Run the full validation pass over a shard dataset (again): 202 with the operation")
            .WithDescription("Every shard read and every image decoded on a worker; the operation reports progress, the problems found with their "
                + "locations (`00012.tar!KEY.jpg`) and their counts by kind. A pass already running is joined, not started twice.");
        return api;
    }

    public static async Task<Results<Created<DatasetResponse>, ValidationProblem>> Create(
        CreateDatasetRequest request, ClaimsPrincipal user, TrainingDb db, ServiceOptions options, DatasetSettings settings,
        DatasetShardSources shardSources, OperationStarter operations, TimeProvider time, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var dataRoot = Path.GetFullPath(options.DataRoot);
        string location, source, name;
        if (new object?[] { request.Path, request.Builtin, request.Shards }.Count(x => x is not null) != 1)
            return Invalid("path", "give exactly one of path, builtin or shards");
        if (request.Shards is { } shards)
        {
            return ShardDatasetRegistration.ListOf(shards) is { } list
                ? await ShardDatasetRegistration.RegisterListAsync(list, request.Name, request.Policy, user, db, dataRoot, shardSources, operations, time, ct)
                : Invalid("shards", "must be a shard list or brace pattern (a string), or an array of them");
        }
        try
        {
            if (request.Path is not null)
            {
                location = DataRootPaths.Resolve(dataRoot, request.Path);
                (source, name) = ("path", request.Name ?? Path.GetFileNameWithoutExtension(location));
                if (ShardSet.IsShardSet(location))
                    return await ShardDatasetRegistration.RegisterDescriptorAsync(location, name, request.Policy, user, db, dataRoot, shardSources, operations, time, ct);
            }
            else
            {
                var folder = Path.Combine(dataRoot, "datasets", id.ToString("N"));
                await Task.Run(() => WriteBuiltin(request.Builtin!, folder, ct), ct);
                (location, source, name) = (folder, "builtin", request.Name ?? request.Builtin!.Kind);
            }
        }
        catch (ArgumentException ex) { return Invalid(request.Path is null ? "builtin" : "path", ex.Message); }
        catch (FileNotFoundException ex) { return Invalid("path", ex.Message); }
        catch (InvalidOperationException ex) { return Invalid("builtin", ex.Message); }
        return await RegisterAsync(db, user, id, name, source, location, request.Policy, settings, time, ct);
    }

    public static async Task<Results<Created<DatasetResponse>, ValidationProblem>> Upload(
        HttpRequest http, ClaimsPrincipal user, TrainingDb db, ServiceOptions options, DatasetSettings settings, TimeProvider time, CancellationToken ct,
        string? name = null, ValidationPolicy policy = ValidationPolicy.Fail, string filename = "dataset.tar")
    {
        if (!ArchiveExtractor.IsArchive(filename)) return Invalid("filename", "must end in .tar, .tar.gz, .tgz or .zip");
        var id = Guid.CreateVersion7();
        var folder = Path.Combine(Path.GetFullPath(options.DataRoot), "datasets", id.ToString("N"));
        Directory.CreateDirectory(folder);
        var stored = false;
        try
        {
            var archive = Path.Combine(folder, "upload-" + Path.GetFileName(filename));
            await using (var file = File.Create(archive)) await http.Body.CopyToAsync(file, ct);
            var errors = new List<DatasetError>();
            var extracted = Path.Combine(folder, "files");
            try { await Task.Run(() => ArchiveExtractor.Extract(archive, extracted, settings.ArchiveLimits, errors), ct); }
            catch (DatasetValidationException ex) { errors.AddRange(ex.Errors); }
            catch (InvalidDataException ex) { errors.Add(new DatasetError(Path.GetFileName(filename), DatasetErrorKind.UnsupportedFormat, ex.Message)); }
            File.Delete(archive);
            if (errors.Count > 0) return TypedResults.ValidationProblem(ErrorsByLocation(errors), title: "The dataset archive is invalid");
            var result = await RegisterAsync(db, user, id, name ?? Path.GetFileNameWithoutExtension(filename), "upload", extracted, policy, settings, time, ct);
            stored = result.Result is Created<DatasetResponse>;
            return result;
        }
        finally
        {
            // A refused, oversized or abandoned upload leaves nothing under the data root.
            if (!stored && Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Opens the dataset with full checks, then stores it; nothing is stored when it is refused.</summary>
    private static async Task<Results<Created<DatasetResponse>, ValidationProblem>> RegisterAsync(
        TrainingDb db, ClaimsPrincipal user, Guid id, string name, string source, string location, ValidationPolicy policy,
        DatasetSettings settings, TimeProvider time, CancellationToken ct)
    {
        ImageTextDataset dataset;
        try
        {
            var checks = new DatasetOptions(Policy: policy, ImageCheck: ImageCheck.Decode, ArchiveLimits: settings.ArchiveLimits);
            dataset = await Task.Run(() => ImageTextDataset.Open(location, checks), ct);
        }
        catch (DatasetValidationException ex) { return TypedResults.ValidationProblem(ErrorsByLocation(ex.Errors), title: "The dataset is invalid"); }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or ArgumentException) { return Invalid("path", ex.Message); }

        var report = new
        {
            splits = dataset.SplitNames.ToDictionary(s => s, s => dataset.Samples.Count(x => x.Split == s)),
            entries = dataset.Report.Entries, kept = dataset.Report.Kept, skipped = dataset.Report.Skipped,
            first_errors = dataset.Report.Errors.Select(e => e.ToString()).ToList(),
            classes = dataset.ClassNames, prompt_templates = dataset.PromptTemplates,
        };
        var record = new DatasetRecord
        {
            Id = id, OwnerKeyId = user.KeyId(), Name = name, Source = source, Location = location, SampleCount = dataset.Samples.Count,
            ClassCount = dataset.ClassNames.Count, Report = JsonSerializer.Serialize(report), CreatedAt = time.GetUtcNow(),
        };
        db.Datasets.Add(record);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/datasets/{id}", DatasetResponse.From(record));
    }

    private static void WriteBuiltin(BuiltinSource builtin, string folder, CancellationToken ct)
    {
        switch (builtin.Kind)
        {
            case "synthetic-shapes":
                if (builtin.Count is < 2 or > 1_000_000) throw new ArgumentException("count must be between 2 and 1000000");
                if (builtin.Size is < 8 or > 1024) throw new ArgumentException("size must be between 8 and 1024");
                SyntheticShapes.Write(folder, new SyntheticShapesOptions(builtin.Count, builtin.Size, builtin.Seed, builtin.ShapeLabels), ct);
                break;
            case "emoji":
                EmojiImporter.Import(folder, new EmojiImportOptions(builtin.TrainStyle, builtin.EvalStyle, builtin.EmojiLabels).Validated(), ct);
                break;
            default:
                throw new ArgumentException($"kind must be synthetic-shapes or emoji, got '{builtin.Kind}'");
        }
    }

    public static async Task<Results<Ok<ListResponse<DatasetResponse>>, ValidationProblem>> List(ClaimsPrincipal user, TrainingDb db, CancellationToken ct,
        int? limit = null, string? cursor = null)
    {
        var (after, problem) = ListPaging.Parse(cursor);
        if (problem is not null) return problem;
        var take = ListPaging.Limit(limit);
        var query = db.Datasets.AsNoTracking();
        if (!user.IsAdmin()) query = query.Where(d => d.OwnerKeyId == user.KeyId());
        if (after is not null) query = query.Where(d => d.CreatedAt < after.CreatedAt || (d.CreatedAt == after.CreatedAt && d.Id.CompareTo(after.Id) < 0));
        var rows = await query.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListPaging.Page(rows, take, d => new ListPaging.Cursor(d.CreatedAt, d.Id), DatasetResponse.From));
    }

    public static async Task<Results<Ok<DatasetResponse>, NotFound<ProblemDetails>>> Get(Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct)
    {
        var row = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct);
        return row is not null && user.CanSee(row.OwnerKeyId) ? TypedResults.Ok(DatasetResponse.From(row)) : JobsApi.NotFoundProblem("dataset", id);
    }

    public static async Task<Results<Accepted<OperationResponse>, NotFound<ProblemDetails>, ValidationProblem>> Validate(
        Guid id, ClaimsPrincipal user, TrainingDb db, OperationStarter operations, CancellationToken ct)
    {
        var row = await db.Datasets.FirstOrDefaultAsync(d => d.Id == id, ct);
        if (row is null || !user.CanSee(row.OwnerKeyId)) return JobsApi.NotFoundProblem("dataset", id);
        if (DatasetResponse.From(row).ShardCount is null)
            return Invalid("dataset", "only shard datasets are validated in the background; this one was fully checked when it was registered");
        var operation = await operations.StartAsync(db, OperationKinds.DatasetValidation, row.OwnerKeyId, DatasetValidationHandler.Input(id),
            DatasetValidationHandler.Subject(id), ct);
        row.Report = ShardDatasetRegistration.ValidationStarted(row.Report, operation.Id);
        await db.SaveChangesAsync(CancellationToken.None);
        return OperationsApi.Accept(operation);
    }

    internal static Dictionary<string, string[]> ErrorsByLocation(IEnumerable<DatasetError> errors) =>
        errors.GroupBy(e => e.Location).ToDictionary(g => g.Key, g => g.Select(e => $"{e.Kind}: {e.Message}").ToArray());

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
