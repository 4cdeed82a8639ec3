using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace TpcCma.Service.Api;

/// <summary><c>/v1/jobs/{id}/events|metrics|stream</c>: what a job reports while it runs.</summary>
public static class JobProgressApi
{
    private static readonly TimeSpan StreamPoll = TimeSpan.FromMilliseconds(500);

    public static RouteGroupBuilder MapJobProgressApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/jobs/{id:guid}").WithTags("Jobs").RequireAuthorization();
        api.MapGet("/events", Events).WithSummary("The job's timeline: status changes, phase transitions (with reason), checkpoints, evaluations");
        api.MapGet("/metrics", Metrics)
            .WithSummary("Curves: loss, clip, cma, alpha, a, b, w, lr, grad_norm and the gap metrics of each evaluation")
            .WithDescription("names: comma-separated metric names (all when absent); since_step: only points with a larger step.");
        api.MapGet("/stream", Stream)
            .WithSummary("Server-sent events following the job: 'job' (status), 'event' and 'metrics' messages; ends when the job ends");
        return api;
    }

    public static async Task<Results<Ok<ListResponse<JobEventResponse>>, NotFound<ProblemDetails>>> Events(
        Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct, long after = 0, int limit = 1000)
    {
        if (!await VisibleAsync(db, user, id, ct)) return JobsApi.NotFoundProblem("job", id);
        limit = Math.Clamp(limit, 1, 10_000);
        var rows = await db.Events.AsNoTracking().Where(e => e.JobId == id && e.Id > after).OrderBy(e => e.Id).Take(limit + 1).ToListAsync(ct);
        return TypedResults.Ok(new ListResponse<JobEventResponse>(rows.Take(limit).Select(JobEventResponse.From).ToList(), rows.Count > limit));
    }

    public static async Task<Results<Ok<List<MetricSeries>>, NotFound<ProblemDetails>>> Metrics(
        Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct, string? names = null, long since_step = -1)
    {
        if (!await VisibleAsync(db, user, id, ct)) return JobsApi.NotFoundProblem("job", id);
        return TypedResults.Ok(await ReadMetricsAsync(db, id, SplitNames(names), since_step, ct));
    }

    public static async Task<Results<ServerSentEventsResult<object>, NotFound<ProblemDetails>>> Stream(
        Guid id, ClaimsPrincipal user, IDbContextFactory<TrainingDb> dbs, CancellationToken ct)
    {
        await using (var db = await dbs.CreateDbContextAsync(ct))
            if (!await VisibleAsync(db, user, id, ct)) return JobsApi.NotFoundProblem("job", id);
        return TypedResults.ServerSentEvents(Follow(id, dbs, ct));
    }

    /// <summary>Polls with short-lived contexts (a stream can last hours) and sends only what is new.</summary>
    private static async IAsyncEnumerable<SseItem<object>> Follow(Guid id, IDbContextFactory<TrainingDb> dbs, [EnumeratorCancellation] CancellationToken ct)
    {
        long lastEvent = 0, lastStep = -1;
        string? lastJob = null;
        while (!ct.IsCancellationRequested)
        {
            TrainingJob job;
            List<JobEvent> events;
            List<MetricSeries> metrics;
            await using (var db = await dbs.CreateDbContextAsync(ct))
            {
                job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == id, ct);
                events = await db.Events.AsNoTracking().Where(e => e.JobId == id && e.Id > lastEvent).OrderBy(e => e.Id).Take(1000).ToListAsync(ct);
                metrics = await ReadMetricsAsync(db, id, null, lastStep, ct);
            }
            var snapshot = JobResponse.From(job) with { Spec = null };
            var fingerprint = $"{snapshot.Status}/{snapshot.Phase}/{snapshot.Step}";
            if (fingerprint != lastJob) yield return new SseItem<object>(snapshot, "job");
            lastJob = fingerprint;
            foreach (var e in events) yield return new SseItem<object>(JobEventResponse.From(e), "event") { EventId = e.Id.ToString() };
            if (metrics.Count > 0) yield return new SseItem<object>(metrics, "metrics");
            lastEvent = events.Count > 0 ? events[^1].Id : lastEvent;
            lastStep = metrics.Count > 0 ? Math.Max(lastStep, metrics.Max(m => m.Steps.Length > 0 ? m.Steps[^1] : -1)) : lastStep;
            if (job.Status.IsTerminal() && events.Count == 0 && metrics.Count == 0) yield break;
            await Task.Delay(StreamPoll, ct);
        }
    }

    public static async Task<List<MetricSeries>> ReadMetricsAsync(TrainingDb db, Guid id, string[]? names, long sinceStep, CancellationToken ct)
    {
        var query = db.Metrics.AsNoTracking().Where(m => m.JobId == id && m.Step > sinceStep);
        if (names is { Length: > 0 }) query = query.Where(m => names.Contains(m.Name));
        var points = await query.OrderBy(m => m.Name).ThenBy(m => m.Step).Select(m => new { m.Name, m.Step, m.Value }).ToListAsync(ct);
        return points.GroupBy(p => p.Name)
            .Select(g => new MetricSeries(g.Key, g.Select(p => p.Step).ToArray(), g.Select(p => p.Value).ToArray()))
            .ToList();
    }

    private static string[]? SplitNames(string? names) =>
        string.IsNullOrWhiteSpace(names) ? null : names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static async Task<bool> VisibleAsync(TrainingDb db, ClaimsPrincipal user, Guid id, CancellationToken ct)
    {
        var owner = await db.Jobs.AsNoTracking().Where(j => j.Id == id).Select(j => new { j.OwnerKeyId }).FirstOrDefaultAsync(ct);
        return owner is not null && user.CanSee(owner.OwnerKeyId);
    }
}
