using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace TpcCma.Service.Auth;

/// <summary>
/// Bearer API keys (<c>Authorization: Bearer tpc_...</c>), or the same key in the dashboard's cookie.
/// Keys are looked up by their sha256 and cached briefly, so a poll-heavy client costs no database round trip.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IDbContextFactory<TrainingDb> dbs, IMemoryCache cache, IConfiguration config)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Cookie = "tpccma_key";
    public const string AdminRole = "admin";
    /// <summary>How long a key lookup is reused: a revoked key stops working within this time.</summary>
    private TimeSpan CacheFor => TimeSpan.FromSeconds(config.GetValue("Auth:KeyCacheSeconds", 30.0));

    private sealed record CachedKey(Guid Id, bool IsAdmin, bool Revoked);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = TokenOf(Request);
        if (token is null) return AuthenticateResult.NoResult();
        var hash = ApiKey.HashOf(token);
        var key = await cache.GetOrCreateAsync("apikey:" + hash, async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = CacheFor;
            await using var db = await dbs.CreateDbContextAsync(Context.RequestAborted);
            var row = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Hash == hash, Context.RequestAborted);
            return row is null ? null : new CachedKey(row.Id, row.IsAdmin, row.RevokedAt is not null);
        });
        if (key is null || key.Revoked) return AuthenticateResult.Fail("unknown or revoked API key");

        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, key.Id.ToString()) };
        if (key.IsAdmin) claims.Add(new Claim(ClaimTypes.Role, AdminRole));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status401Unauthorized, "Unauthorized", "Send an API key: 'Authorization: Bearer tpc_...'.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "This endpoint needs an admin API key.");

    private Task WriteProblem(int status, string title, string detail)
    {
        Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized) Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(title: title, detail: detail, statusCode: status).ExecuteAsync(Context);
    }

    private static string? TokenOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header["Bearer ".Length..].Trim();
        return request.Cookies.TryGetValue(Cookie, out var cookie) && !string.IsNullOrEmpty(cookie) ? cookie : null;
    }
}

/// <summary>Who is calling: the key id owns what it creates; admins see everything.</summary>
public static class Caller
{
    public static Guid KeyId(this ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!);

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(ApiKeyAuthenticationHandler.AdminRole);

    /// <summary>Rows of other owners are invisible (404, not 403: their existence is not disclosed).</summary>
    public static bool CanSee(this ClaimsPrincipal user, Guid? ownerKeyId) => user.IsAdmin() || ownerKeyId == user.KeyId();
}
