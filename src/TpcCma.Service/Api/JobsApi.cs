using System.Security.Claims;
using Hangfire;
using Hangfire.States;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TpcCma.Diagnostics;
using TpcCma.Service.Auth;
using TpcCma.Service.Hosting;
using TpcCma.Service.Jobs;
using TpcCma.Service.Persistence;
using TpcCma.Service.Telemetry;

namespace TpcCma.Service.Api;

/// <summary><c>/v1/jobs</c>: submit, list, inspect and cancel jobs. Progress endpoints are in <see cref="JobProgressApi"/>.</summary>
public static class JobsApi
{
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>A running job's row changes several times a second (progress, lease): a cancel re-reads it and tries again.</summary>
    private static readonly Polly.ResiliencePipeline CancelConflicts = DatabaseRetry.ForConflicts(attempts: 20);

    public static RouteGroupBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/jobs").WithTags("Jobs").RequireAuthorization();
        api.MapPost("/", Create)
            .Accepts<CreateJobRequest>("application/json")
            .ProducesValidationProblem()
            .WithSummary("Create and enqueue a job")
            .WithDescription("Validates the spec (every invalid field is listed), resolves base_model and dataset (404 when unknown) and queues the job. "
                + "With an Idempotency-Key header a repeat returns the same job (200); the same key with a different body is 409.");
        api.MapGet("/", List).WithSummary("List jobs, newest first")
            .WithDescription("Pages of `limit` jobs (default 50, at most 500). When `has_more` is true, pass `next` as `?cursor=` for the next page.");
        api.MapGet("/{id:guid}", Get).WithSummary("A job: status, phase, step, error and result")
            .WithDescription("`spec` is the spec as submitted (with its defaults and seed); the model and dataset are named by the `base_model` and `dataset` ids, never by a path on a node.");
        api.MapPost("/{id:guid}/cancel", Cancel)
            .WithSummary("Cancel a job")
            .WithDescription("A queued job is cancelled at once; a running one stops within one training step, keeps its checkpoint and becomes cancelled.");
        return api;
    }

    public static async Task<Results<Created<JobResponse>, Ok<JobResponse>, ValidationProblem, ProblemHttpResult>> Create(
        HttpRequest http, ClaimsPrincipal user, TrainingDb db, IBackgroundJobClient hangfire, ServiceOptions options, TimeProvider time,
        [FromHeader(Name = IdempotencyHeader)] string? idempotencyKey, CancellationToken ct)
    {
        if (idempotencyKey is { Length: > 200 } || idempotencyKey is { Length: 0 })
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [IdempotencyHeader] = ["must be 1-200 characters"] });
        if (!http.HasJsonContentType())
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type", detail: "send the job as application/json");
        var body = await new StreamReader(http.Body).ReadToEndAsync(ct);
        var (bound, errors) = JobRequestBinder.Bind(body, options.Queues.FirstOrDefault() ?? "cpu");
        if (bound is null) return TypedResults.ValidationProblem(errors, title: "The job request is invalid");

        var owner = user.KeyId();
        if (idempotencyKey is not null
            && await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.OwnerKeyId == owner && j.IdempotencyKey == idempotencyKey, ct) is { } existing)
        {
            return existing.RequestHash == bound.BodySha256
                ? TypedResults.Ok(JobResponse.From(existing))
                : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Idempotency-Key reused",
                    detail: $"key '{idempotencyKey}' was used for job {existing.Id} with a different body");
        }

        var resolved = await JobReferences.ResolveAsync(db, user, bound, ct);
        if (resolved.Problem is not null) return resolved.Problem;
        var job = TrainingJob.Create(resolved.Draft! with { IdempotencyKey = idempotencyKey, RequestHash = bound.BodySha256 }, owner, time.GetUtcNow());
        db.Jobs.Add(job);
        db.Events.Add(JobEvent.Status(job.Id, "queued", null, job.CreatedAt));
        try
        {
            // From here on a client that hangs up no longer stops the request: a job that is stored also gets enqueued.
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (DbUpdateException) when (idempotencyKey is not null)
        {
            // Two concurrent requests with the same key: the unique index let one through; answer with it.
            db.ChangeTracker.Clear();
            var winner = await db.Jobs.AsNoTracking().FirstAsync(j => j.OwnerKeyId == owner && j.IdempotencyKey == idempotencyKey, ct);
            return winner.RequestHash == bound.BodySha256
                ? TypedResults.Ok(JobResponse.From(winner))
                : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Idempotency-Key reused");
        }
        FaultInjection.KillAt("job-stored");   // stored, not yet enqueued: the reconciler must find it
        await EnqueueAsync(db, hangfire, job);
        ServiceMetrics.JobSubmitted(job.Kind);
        return TypedResults.Created($"/v1/jobs/{job.Id}", JobResponse.From(job));
    }

    /// <summary>
    /// Hands the job id (nothing more) to Hangfire on the job's queue. Not cancellable: once the job's row is stored,
    /// a client that hangs up must not leave it queued with nothing in Hangfire to run it.
    /// </summary>
    public static async Task EnqueueAsync(TrainingDb db, IBackgroundJobClient hangfire, TrainingJob job)
    {
        var jobId = job.Id;
        var hangfireId = hangfire.Create<TrainJob>(t => t.RunAsync(jobId, CancellationToken.None), new EnqueuedState(job.Queue));
        job.AttachHangfireId(hangfireId);
        try
        {
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (DbUpdateConcurrencyException)
        {
            // The row changed since it was stored: on a slow enqueue the reconciler finds a queued job without a
            // Hangfire job and enqueues it itself. Its Hangfire job runs the job; this one is withdrawn so that only
            // one is fetched, and the caller answers with the row as it now is.
            hangfire.Delete(hangfireId);
            await db.Entry(job).ReloadAsync(CancellationToken.None);
        }
    }

    public static async Task<Results<Ok<ListResponse<JobResponse>>, ValidationProblem>> List(ClaimsPrincipal user, TrainingDb db, CancellationToken ct,
        string? status = null, string? search = null, Guid? sweep = null, int? limit = null, DateTimeOffset? before = null, string? cursor = null)
    {
        var (after, problem) = ListPaging.Parse(cursor);
        if (problem is not null) return problem;
        var take = ListPaging.Limit(limit);
        var query = db.Jobs.AsNoTracking();
        if (!user.IsAdmin()) query = query.Where(j => j.OwnerKeyId == user.KeyId());
        if (status is not null && Enum.TryParse<JobStatus>(status, ignoreCase: true, out var s)) query = query.Where(j => j.Status == s);
        if (!string.IsNullOrWhiteSpace(search)) query = query.Where(j => EF.Functions.ILike(j.Name, "%" + search + "%"));
        if (sweep is not null) query = query.Where(j => j.SweepId == sweep);
        if (before is not null) query = query.Where(j => j.CreatedAt < before);
        if (after is not null) query = query.Where(j => j.CreatedAt < after.CreatedAt || (j.CreatedAt == after.CreatedAt && j.Id.CompareTo(after.Id) < 0));
        var rows = await query.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListPaging.Page(rows, take, j => new ListPaging.Cursor(j.CreatedAt, j.Id), JobResponse.From));
    }

    public static async Task<Results<Ok<JobResponse>, NotFound<ProblemDetails>>> Get(Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct);
        return job is not null && user.CanSee(job.OwnerKeyId) ? TypedResults.Ok(JobResponse.From(job)) : NotFoundProblem("job", id);
    }

    public static async Task<Results<Ok<JobResponse>, NotFound<ProblemDetails>, ProblemHttpResult>> Cancel(
        Guid id, ClaimsPrincipal user, TrainingDb db, TimeProvider time, CancellationToken ct) =>
        await CancelConflicts.ExecuteAsync<Results<Ok<JobResponse>, NotFound<ProblemDetails>, ProblemHttpResult>>(async token =>
        {
            db.ChangeTracker.Clear();   // a try after a conflict starts from the row as it is now
            var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == id, token);
            if (job is null || !user.CanSee(job.OwnerKeyId)) return NotFoundProblem("job", id);
            if (job.Status.IsTerminal())
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Job already ended", detail: $"job {id} is {job.Status.Name()}");
            var now = time.GetUtcNow();
            job.RequestCancel(now);
            db.Events.Add(JobEvent.Status(id, job.Status.Name(), job.Step, now));
            await db.SaveChangesAsync(token);
            return TypedResults.Ok(JobResponse.From(job));
        }, ct);

    public static NotFound<ProblemDetails> NotFoundProblem(string what, Guid id) =>
        TypedResults.NotFound(new ProblemDetails { Status = 404, Title = $"Unknown {what}", Detail = $"no {what} {id}" });
}
