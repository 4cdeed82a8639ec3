using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TpcCma.Service.Auth;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Api;

/// <summary><c>/v1/keys</c>: API keys. Admins create and revoke them; the token is returned once.</summary>
public static class KeysApi
{
    public sealed record CreateKeyRequest([property: Required, StringLength(200, MinimumLength = 1)] string Name, bool Admin = false);

    public sealed record KeyResponse(Guid Id, string Name, string Prefix, bool Admin, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
    {
        public static KeyResponse From(ApiKey k) => new(k.Id, k.Name, k.Prefix, k.IsAdmin, k.CreatedAt, k.RevokedAt);
    }

    public sealed record CreatedKey(Guid Id, string Name, bool Admin, string Token, DateTimeOffset CreatedAt);

    public static RouteGroupBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/keys").WithTags("API keys").RequireAuthorization();
        api.MapPost("/", Create).RequireAuthorization(ApiKeyAuthenticationHandler.AdminRole)
            .WithSummary("Create an API key (admin)").WithDescription("The token is in the response only: store it now.");
        api.MapGet("/", List).WithSummary("List keys: an admin sees all, others their own");
        api.MapDelete("/{id:guid}", Revoke).RequireAuthorization(ApiKeyAuthenticationHandler.AdminRole).WithSummary("Revoke a key (admin)");
        return api;
    }

    public static async Task<Created<CreatedKey>> Create(CreateKeyRequest request, TrainingDb db, TimeProvider time, CancellationToken ct)
    {
        var token = ApiKey.NewToken();
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(), Name = request.Name, Prefix = ApiKey.PrefixOf(token), Hash = ApiKey.HashOf(token),
            IsAdmin = request.Admin, CreatedAt = time.GetUtcNow(),
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/keys/{key.Id}", new CreatedKey(key.Id, key.Name, key.IsAdmin, token, key.CreatedAt));
    }

    public static async Task<Ok<List<KeyResponse>>> List(System.Security.Claims.ClaimsPrincipal user, TrainingDb db, CancellationToken ct)
    {
        var query = db.ApiKeys.AsNoTracking();
        if (!user.IsAdmin()) query = query.Where(k => k.Id == user.KeyId());
        var keys = await query.OrderBy(k => k.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(keys.Select(KeyResponse.From).ToList());
    }

    public static async Task<Results<NoContent, NotFound>> Revoke(Guid id, TrainingDb db, TimeProvider time, CancellationToken ct)
    {
        var key = await db.ApiKeys.FindAsync([id], ct);
        if (key is null) return TypedResults.NotFound();
        key.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
