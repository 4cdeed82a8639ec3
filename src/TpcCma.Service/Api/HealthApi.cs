using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Api;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (it can reach its database and storage).</summary>
public static class HealthApi
{
    public sealed record Readiness(bool Database, bool Storage);

    public static void MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" })).WithTags("Health").WithSummary("Liveness");
        app.MapGet("/readyz", Ready).WithTags("Health").WithSummary("Readiness: database and artifact storage reachable");
    }

    public static async Task<Results<Ok<Readiness>, JsonHttpResult<Readiness>>> Ready(TrainingDb db, Hosting.ArtifactPaths artifacts, CancellationToken ct)
    {
        bool database;
        try { database = await db.Database.CanConnectAsync(ct); }
        catch (Npgsql.NpgsqlException) { database = false; }
        var storage = artifacts.IsWritable();
        var readiness = new Readiness(database, storage);
        return database && storage ? TypedResults.Ok(readiness) : TypedResults.Json(readiness, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
