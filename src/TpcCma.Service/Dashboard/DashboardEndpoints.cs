using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.FileProviders;
using TpcCma.Service.Auth;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Dashboard;

/// <summary>
/// The web dashboard: a static single-page app (embedded in this assembly) at <c>/</c>, its files under <c>/ui/</c>,
/// and <c>/ui/session</c>, which turns a pasted API key into the <c>tpccma_key</c> cookie the API also accepts.
/// The cookie is HttpOnly and SameSite=Strict: scripts cannot read the key, other sites cannot send it, and
/// EventSource (which cannot set headers) still authenticates.
/// </summary>
public static class DashboardEndpoints
{
    private const string AssetsNamespace = "TpcCma.Service.Dashboard.Assets";
    private static readonly TimeSpan SessionLifetime = TimeSpan.FromDays(7);

    /// <summary>Scripts and styles only from this origin; charts draw on canvases, so no inline code is needed.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

    public static void MapDashboard(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(DashboardEndpoints).Assembly, AssetsNamespace);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = "/ui",
            // Revalidate every time: the files change with each release and are small.
            OnPrepareResponse = ctx => ctx.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.MapGet("/", (HttpContext http) =>
        {
            http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            http.Response.Headers.CacheControl = "no-cache";
            return TypedResults.Stream(files.GetFileInfo("index.html").CreateReadStream(), "text/html; charset=utf-8");
        }).ExcludeFromDescription();

        var session = app.MapGroup("/ui/session").WithTags("Dashboard");
        session.MapPost("/", SignIn).WithSummary("Dashboard sign-in: checks an API key and stores it in an HttpOnly cookie");
        session.MapDelete("/", SignOut).WithSummary("Dashboard sign-out: clears the cookie");
    }

    /// <summary>Body of the dashboard's sign-in.</summary>
    public sealed record SignInRequest([property: JsonPropertyName("key")] string? Key);

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> SignIn(
        SignInRequest request, HttpContext http, IDbContextFactory<TrainingDb> dbs, CancellationToken ct)
    {
        var key = request.Key?.Trim();
        if (string.IsNullOrEmpty(key) || !key.StartsWith(ApiKey.TokenPrefix, StringComparison.Ordinal))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["key"] = [$"paste an API key (it starts with '{ApiKey.TokenPrefix}')"] });
        var hash = ApiKey.HashOf(key);
        await using var db = await dbs.CreateDbContextAsync(ct);
        if (!await db.ApiKeys.AsNoTracking().AnyAsync(k => k.Hash == hash && k.RevokedAt == null, ct))
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unknown API key", detail: "this key is unknown or revoked");
        http.Response.Cookies.Append(ApiKeyAuthenticationHandler.Cookie, key, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = http.Request.IsHttps,
            Path = "/",
            MaxAge = SessionLifetime,
        });
        return TypedResults.NoContent();
    }

    public static NoContent SignOut(HttpContext http)
    {
        http.Response.Cookies.Delete(ApiKeyAuthenticationHandler.Cookie, new CookieOptions { Path = "/", SameSite = SameSiteMode.Strict });
        return TypedResults.NoContent();
    }
}
