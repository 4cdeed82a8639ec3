using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TpcCma.Service.Auth;
using TpcCma.Service.Operations;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Api;

/// <summary>
/// <c>/v1/operations</c>: heavy work that a request started and a worker carries out (a hub model import, a checkpoint
/// conversion). The request answers <c>202 Accepted</c> with <c>Location: /v1/operations/{id}</c>; poll it until
/// <c>state</c> is succeeded, failed or cancelled.
/// </summary>
public static class OperationsApi
{
    private static readonly string[] States = Enum.GetValues<OperationState>().Select(s => s.Name()).ToArray();

    public static RouteGroupBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/operations").WithTags("Operations").RequireAuthorization();
        api.MapGet("/", List).WithSummary("List operations, newest first")
            .WithDescription("Pages of `limit` (default 50, at most 500); when `has_more`, pass `next` as `?cursor=`. Filter with `kind` and `state`.");
        api.MapGet("/{id:guid}", Get).WithSummary("An operation: state, progress, message, result and the errors found")
            .WithDescription("Poll until `state` is succeeded, failed or cancelled (`tpccma operations wait ID` does).");
        api.MapPost("/{id:guid}/cancel", Cancel).WithSummary("Cancel an operation")
            .WithDescription("A queued or running operation is cancelled at once; its worker stops within about a second and stores nothing. An ended one answers 409.");
        return api;
    }

    /// <summary>The answer to a request that started (or joined) an operation.</summary>
    public static Accepted<OperationResponse> Accept(Operation operation) =>
        TypedResults.Accepted($"/v1/operations/{operation.Id}", OperationResponse.From(operation));

    public static async Task<Results<Ok<OperationResponse>, NotFound<ProblemDetails>>> Get(Guid id, ClaimsPrincipal user, TrainingDb db, CancellationToken ct)
    {
        var row = await db.Operations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, ct);
        return row is not null && user.CanSee(row.OwnerKeyId) ? TypedResults.Ok(OperationResponse.From(row)) : JobsApi.NotFoundProblem("operation", id);
    }

    public static async Task<Results<Ok<ListResponse<OperationResponse>>, ValidationProblem>> List(ClaimsPrincipal user, TrainingDb db, CancellationToken ct,
        int? limit = null, string? cursor = null, string? kind = null, string? state = null)
    {
        var (after, problem) = ListPaging.Parse(cursor);
        if (problem is not null) return problem;
        if (state is not null && !States.Contains(state))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["state"] = [$"must be one of {string.Join(", ", States)}"] });
        var take = ListPaging.Limit(limit);
        var query = db.Operations.AsNoTracking();
        if (!user.IsAdmin()) query = query.Where(o => o.OwnerKeyId == user.KeyId());
        if (kind is not null) query = query.Where(o => o.Kind == kind);
        if (state is not null)
        {
            var wanted = OperationStateNames.Parse(state);
            query = query.Where(o => o.State == wanted);
        }
        if (after is not null) query = query.Where(o => o.CreatedAt < after.CreatedAt || (o.CreatedAt == after.CreatedAt && o.Id.CompareTo(after.Id) < 0));
        var rows = await query.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListPaging.Page(rows, take, o => new ListPaging.Cursor(o.CreatedAt, o.Id), OperationResponse.From));
    }

    public static async Task<Results<Ok<OperationResponse>, NotFound<ProblemDetails>, ProblemHttpResult>> Cancel(
        Guid id, ClaimsPrincipal user, TrainingDb db, TimeProvider time, CancellationToken ct)
    {
        var row = await db.Operations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, ct);
        if (row is null || !user.CanSee(row.OwnerKeyId)) return JobsApi.NotFoundProblem("operation", id);
        if (!await OperationStore.CancelAsync(db, id, time.GetUtcNow(), ct))
        {
            var ended = await db.Operations.AsNoTracking().FirstAsync(o => o.Id == id, ct);
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Operation already ended", detail: $"operation {id} is {ended.State.Name()}");
        }
        return TypedResults.Ok(OperationResponse.From(await db.Operations.AsNoTracking().FirstAsync(o => o.Id == id, ct)));
    }
}
