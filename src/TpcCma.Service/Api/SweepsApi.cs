using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TpcCma.Evaluation;
using TpcCma.Runs;
using TpcCma.Service.Auth;
using TpcCma.Service.Hosting;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Api;

/// <summary>
/// <c>/v1/sweeps</c>: one job per (<c>alpha_target</c>, seed), the report over seeds with intervals and the R^2
/// analysis once they finish, and the machine-readable results it is computed from.
/// </summary>
public static class SweepsApi
{
    public static readonly double[] DefaultAlphaTargets = [0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7];
    public const int MaxSeeds = 20;
    public const int MaxJobs = 200;

    /// <summary>A job request (base_model, dataset, spec without alpha_target) and the values of alpha_target to run.</summary>
    public sealed record CreateSweepRequest
    {
        public string? Name { get; init; }
        public string? Queue { get; init; }
        public Guid? BaseModel { get; init; }
        public Guid? Dataset { get; init; }
        public JsonObject? Spec { get; init; }
        /// <example>[0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7]</example>
        public double[]? AlphaTargets { get; init; }
        /// <summary>Seeds to run every alpha_target with (default: one, the spec's seed or a random one).</summary>
        /// <example>[0, 1, 2, 3, 4]</example>
        public long[]? Seeds { get; init; }
        /// <summary>Methods to compare (default: the spec alone): each a name and the spec fields it overrides; one
        /// job per (method, alpha_target where the method uses it, seed).</summary>
        public SweepMethodRequest?[]? Methods { get; init; }
    }

    public sealed record SweepResponse(Guid Id, string Name, string Status, double[] AlphaTargets, IReadOnlyList<long> Seeds, DateTimeOffset CreatedAt,
        IReadOnlyList<JobResponse> Jobs, IReadOnlyList<SweepTable> Report)
    {
        public string Object => "sweep";
    }

    public static RouteGroupBuilder MapSweepsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/sweeps").WithTags("Sweeps").RequireAuthorization();
        api.MapPost("/", Create).Accepts<CreateSweepRequest>("application/json").ProducesValidationProblem()
            .WithSummary("Run one job per (alpha_target, seed) (default alphas 0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7) from the same base model, data and spec");
        api.MapGet("/", List).WithSummary("List sweeps")
            .WithDescription("Newest first, in pages of `limit` (default 50, at most 500); when `has_more`, pass `next` as `?cursor=`.");
        api.MapGet("/{id:guid}", Get).WithSummary("A sweep: its jobs and, per split, the rows, each model's mean and 95 % interval over seeds, reductions, and the R^2 fits with R^2(G_D) - R^2(G_R)");
        api.MapGet("/{id:guid}/results.json", Results).WithSummary("The sweep's finished rows, machine-readable: {dataset, seeds, alpha_targets, splits: {SPLIT: {rows}}}");
        return api;
    }

    public static async Task<Results<Created<SweepResponse>, ValidationProblem, ProblemHttpResult>> Create(
        HttpRequest http, ClaimsPrincipal user, TrainingDb db, IBackgroundJobClient hangfire, ServiceOptions options, TimeProvider time, CancellationToken ct)
    {
        if (!http.HasJsonContentType())
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type", detail: "send the sweep as application/json");
        var body = await new StreamReader(http.Body).ReadToEndAsync(ct);
        CreateSweepRequest? request;
        try { request = JsonSerializer.Deserialize<CreateSweepRequest>(body, ApiJson.Strict); }
        catch (JsonException ex) { return Invalid(ApiJson.FieldOf(ex.Path, "body"), ex.Message.Split(" Path:")[0]); }
        if (request is null) return Invalid("body", "the body must be a JSON object");
        var alphas = request.AlphaTargets ?? DefaultAlphaTargets;
        if (alphas.Length is 0 or > 20) return Invalid("alpha_targets", "give 1 to 20 values");
        if (alphas.Any(a => !double.IsFinite(a) || a < 0 || a >= 1)) return Invalid("alpha_targets", "every value must be in [0, 1)");
        if (alphas.Distinct().Count() != alphas.Length) return Invalid("alpha_targets", "values must be distinct");
        if (request.Spec?.ContainsKey("alpha_target") == true) return Invalid("spec.alpha_target", "is set per job from alpha_targets; leave it out");
        if (request.Seeds is { } seeds)
        {
            if (seeds.Length is 0 or > MaxSeeds) return Invalid("seeds", $"give 1 to {MaxSeeds} seeds");
            if (seeds.Any(seed => seed < 0)) return Invalid("seeds", "every seed must be >= 0");
            if (seeds.Distinct().Count() != seeds.Length) return Invalid("seeds", "seeds must be distinct");
            if (request.Spec?.ContainsKey("seed") == true) return Invalid("spec.seed", "is set per job from seeds; leave it out");
            if (seeds.Length * alphas.Length > MaxJobs)
                return Invalid("seeds", $"{seeds.Length} seeds x {alphas.Length} alpha_targets is {seeds.Length * alphas.Length} jobs; at most {MaxJobs}");
        }

        var jobBody = JsonSerializer.Serialize(new CreateJobRequest
        {
            Name = request.Name, Queue = request.Queue, BaseModel = request.BaseModel, Dataset = request.Dataset, Spec = request.Spec,
        }, ApiJson.Strict);
        var (bound, errors) = JobRequestBinder.Bind(jobBody, options.Queues.FirstOrDefault() ?? "cpu");
        if (bound is null) return TypedResults.ValidationProblem(errors, title: "The sweep request is invalid");
        IReadOnlyList<SweepMethod>? methods = null;
        if (request.Methods is { } entries)
        {
            (methods, var methodErrors) = SweepMethods.Bind(entries, bound.Request, options.Queues.FirstOrDefault() ?? "cpu");
            if (methods is null) return TypedResults.ValidationProblem(methodErrors, title: "The sweep request is invalid");
            var jobCount = (request.Seeds?.Length ?? 1) * methods.Sum(m => m.AlphaApplies ? alphas.Length : 1);
            if (jobCount > MaxJobs) return Invalid("methods", $"{methods.Count} methods over the seeds and alpha_targets make {jobCount} jobs; at most {MaxJobs}");
        }
        var resolved = await JobReferences.ResolveAsync(db, user, bound, ct);
        if (resolved.Problem is not null) return resolved.Problem;

        var sweep = new Sweep
        {
            Id = Guid.CreateVersion7(), OwnerKeyId = user.KeyId(), Name = request.Name ?? $"sweep-{resolved.Draft!.Name}",
            Spec = bound.Spec.ToJson(), AlphaTargets = alphas, CreatedAt = time.GetUtcNow(),
        };
        db.Sweeps.Add(sweep);
        var jobs = new List<TrainingJob>();
        var draftSpec = TpcCma.Training.TrainingSpec.FromJson(resolved.Draft!.Spec);
        foreach (var seed in request.Seeds ?? [draftSpec.Seed])
        foreach (var method in methods ?? [])
        foreach (var alpha in method.AlphaApplies ? alphas : [alphas[0]])
        {
            // The method's own spec (the sweep's with its overrides), its weights and data where the sweep's were
            // resolved to; alpha_target and seed as for any sweep job.
            var spec = method.Spec with
            {
                InitWeights = draftSpec.InitWeights, Dataset = draftSpec.Dataset,
                AlphaTarget = method.AlphaApplies ? alpha : method.Spec.AlphaTarget, Seed = seed,
            };
            var name = SweepMethods.JobName(sweep.Name, method, alpha, seed, seeded: request.Seeds is not null);
            var job = TrainingJob.Create(resolved.Draft with { Name = name, Spec = spec.ToJson(), Seed = seed, SweepId = sweep.Id }, user.KeyId(), sweep.CreatedAt);
            db.Jobs.Add(job);
            db.Events.Add(JobEvent.Status(job.Id, "queued", null, sweep.CreatedAt));
            jobs.Add(job);
        }
        // Without methods: the sweep's spec alone, named as sweeps always were.
        foreach (var seed in methods is null ? request.Seeds ?? [draftSpec.Seed] : [])
        foreach (var alpha in alphas)
        {
            // Same base, data and spec for every job: the runs differ in alpha_target and seed alone.
            var spec = draftSpec with { AlphaTarget = alpha, Seed = seed };
            var name = request.Seeds is null ? $"{sweep.Name}-alpha{alpha}" : $"{sweep.Name}-alpha{alpha}-seed{seed}";
            var job = TrainingJob.Create(resolved.Draft with { Name = name, Spec = spec.ToJson(), Seed = seed, SweepId = sweep.Id }, user.KeyId(), sweep.CreatedAt);
            db.Jobs.Add(job);
            db.Events.Add(JobEvent.Status(job.Id, "queued", null, sweep.CreatedAt));
            jobs.Add(job);
        }
        // From here on the request runs to the end even if the client hangs up: every job stored is enqueued.
        await db.SaveChangesAsync(CancellationToken.None);
        foreach (var job in jobs) await JobsApi.EnqueueAsync(db, hangfire, job);
        return TypedResults.Created($"/v1/sweeps/{sweep.Id}", Describe(sweep, jobs, ""));
    }

    public static async Task<Results<Ok<ListResponse<SweepResponse>>, ValidationProblem>> List(ClaimsPrincipal user, TrainingDb db, CancellationToken ct,
        int? limit = null, string? cursor = null)
    {
        var (after, problem) = ListPaging.Parse(cursor);
        if (problem is not null) return problem;
        var take = ListPaging.Limit(limit);
        var query = db.Sweeps.AsNoTracking();
        if (!user.IsAdmin()) query = query.Where(s => s.OwnerKeyId == user.KeyId());
        if (after is not null) query = query.Where(s => s.CreatedAt < after.CreatedAt || (s.CreatedAt == after.CreatedAt && s.Id.CompareTo(after.Id) < 0));
        var sweeps = await query.OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id).Take(take + 1).ToListAsync(ct);
        var ids = sweeps.Select(s => s.Id).ToList();
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.SweepId != null && ids.Contains(j.SweepId.Value)).ToListAsync(ct);
        return TypedResults.Ok(ListPaging.Page(sweeps, take, s => new ListPaging.Cursor(s.CreatedAt, s.Id),
            s => Describe(s, jobs.Where(j => j.SweepId == s.Id).ToList(), "", withReport: false)));
    }

    public static async Task<Results<Ok<SweepResponse>, NotFound<ProblemDetails>>> Get(Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct)
    {
        var sweep = await db.Sweeps.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (sweep is null || !user.CanSee(sweep.OwnerKeyId)) return JobsApi.NotFoundProblem("sweep", id);
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.SweepId == id).ToListAsync(ct);
        return TypedResults.Ok(Describe(sweep, jobs, await DatasetNameAsync(db, jobs, ct)));
    }

    /// <summary>The rows of the sweep's finished jobs (<see cref="SweepResults"/>); rows appear as jobs finish.</summary>
    public static async Task<Results<Ok<SweepResults>, NotFound<ProblemDetails>>> Results(Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct)
    {
        var sweep = await db.Sweeps.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (sweep is null || !user.CanSee(sweep.OwnerKeyId)) return JobsApi.NotFoundProblem("sweep", id);
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.SweepId == id).ToListAsync(ct);
        return TypedResults.Ok(ResultsOf(sweep, jobs, await DatasetNameAsync(db, jobs, ct)));
    }

    private static async Task<string> DatasetNameAsync(TrainingDb db, List<TrainingJob> jobs, CancellationToken ct)
    {
        var datasetId = jobs.Select(j => j.DatasetId).FirstOrDefault(d => d is not null);
        if (datasetId is null) return "";
        return await db.Datasets.AsNoTracking().Where(d => d.Id == datasetId).Select(d => d.Name).FirstOrDefaultAsync(ct) ?? "";
    }

    private static SweepResults ResultsOf(Sweep sweep, List<TrainingJob> jobs, string dataset) =>
        SweepResults.FromRuns(dataset, sweep.AlphaTargets, [.. jobs.Where(j => j.Result is not null).Select(j =>
        {
            var spec = TpcCma.Training.TrainingSpec.FromJson(j.Spec);
            var (method, alphaApplies) = SweepMethods.Of(sweep, j, spec);
            return new SweepRun(spec.AlphaTarget, j.Seed, StoredEvaluations(j.Result!), method, alphaApplies);
        })]);

    private static SweepResponse Describe(Sweep sweep, List<TrainingJob> jobs, string dataset, bool withReport = true)
    {
        var ordered = jobs.Select(j => (Job: j, Alpha: TpcCma.Training.TrainingSpec.FromJson(j.Spec).AlphaTarget))
            .OrderBy(r => r.Job.Seed).ThenBy(r => r.Alpha).Select(r => r.Job).ToList();
        var report = withReport ? SweepReport.Build(ResultsOf(sweep, jobs, dataset)) : [];
        return new SweepResponse(sweep.Id, sweep.Name, Status(ordered), sweep.AlphaTargets, [.. ordered.Select(j => j.Seed).Distinct()],
            sweep.CreatedAt, ordered.Select(JobResponse.From).ToList(), report);
    }

    /// <summary>succeeded when all did; failed or cancelled once nothing runs and one did not succeed; else running or queued.</summary>
    private static string Status(List<TrainingJob> jobs)
    {
        if (jobs.All(j => j.Status == JobStatus.Succeeded)) return "succeeded";
        if (jobs.All(j => j.Status.IsTerminal())) return jobs.Any(j => j.Status == JobStatus.Failed) ? "failed" : "cancelled";
        return jobs.Any(j => j.Status != JobStatus.Queued) ? "running" : "queued";
    }

    private sealed record StoredResult(IReadOnlyList<RunEvaluationRecord>? Evaluations);

    private static IReadOnlyList<RunEvaluationRecord> StoredEvaluations(string result) =>
        JsonSerializer.Deserialize<StoredResult>(result, EvaluationReport.JsonOptions)?.Evaluations ?? [];

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
