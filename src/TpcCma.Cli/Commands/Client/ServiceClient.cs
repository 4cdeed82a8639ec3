using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TpcCma.Cli.Commands.Client;

/// <summary>
/// The HTTP side of the client commands: base URL and API key from <c>--url</c>/<c>--key</c> or
/// <c>TPCCMA_URL</c>/<c>TPCCMA_API_KEY</c>, JSON in and out, reads retried through an outage (<see cref="RetryBudget"/>),
/// and every error answer turned into a <see cref="ServiceProblem"/> that carries the service's ProblemDetails.
/// </summary>
public sealed class ServiceClient : IDisposable
{
    public const string DefaultUrl = "http://localhost:8080";
    public HttpClient Http { get; }
    public Uri BaseUrl { get; }

    private ServiceClient(Uri baseUrl, string key, RetryBudget retry)
    {
        BaseUrl = baseUrl;
        // No overall timeout: waits and downloads are bounded by their own options and the cancellation token.
        Http = new HttpClient(retry.Handler(), disposeHandler: true) { BaseAddress = baseUrl, Timeout = Timeout.InfiniteTimeSpan };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("tpccma", "1"));
    }

    /// <param name="url">From <c>--url</c>; null falls back to TPCCMA_URL, then <see cref="DefaultUrl"/>.</param>
    /// <param name="key">From <c>--key</c>; null falls back to TPCCMA_API_KEY.</param>
    public static ServiceClient Create(string? url, string? key, RetryBudget retry)
    {
        url ??= Environment.GetEnvironmentVariable("TPCCMA_URL") ?? DefaultUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            throw new CliUsageException($"--url / TPCCMA_URL must be an http(s) URL, got '{url}'");
        key ??= Environment.GetEnvironmentVariable("TPCCMA_API_KEY");
        if (string.IsNullOrWhiteSpace(key)) throw new CliUsageException("no API key: set TPCCMA_API_KEY or pass --key");
        return new ServiceClient(baseUrl, key.Trim(), retry);
    }

    /// <param name="left">Time left before the caller's own deadline (<c>--timeout</c>): retrying stops there too.</param>
    public async Task<JsonNode> GetAsync(string path, CancellationToken ct, TimeSpan? left = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (left is { } l) request.Options.Set(RetryBudget.Deadline, l);
        return await SendAsync(request, ct);
    }

    public async Task<JsonNode> PostAsync(string path, string? json, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return await SendAsync(request, ct);
    }

    public async Task<JsonNode> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        using (var response = await Http.SendAsync(request, ct))
        {
            await EnsureSuccessAsync(response, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            return JsonNode.Parse(text) ?? throw new InvalidDataException($"{request.RequestUri}: the service sent an empty body");
        }
    }

    /// <summary>Throws a <see cref="ServiceProblem"/> for any answer that is not 2xx.</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(ct);
        JsonObject? problem = null;
        try { problem = JsonNode.Parse(body) as JsonObject; }
        catch (JsonException) { }   // not JSON (a proxy's page): the status and text are reported instead
        throw new ServiceProblem(response.StatusCode, problem, body);
    }

    public void Dispose() => Http.Dispose();
}

/// <summary>The service answered with an error; <see cref="Problem"/> is its ProblemDetails when it sent one.</summary>
public sealed class ServiceProblem(HttpStatusCode status, JsonObject? problem, string body)
    : Exception($"{(int)status} {problem?["title"]?.GetValue<string>() ?? status.ToString()}")
{
    public HttpStatusCode Status { get; } = status;
    public JsonObject? Problem { get; } = problem;

    /// <summary>The request was wrong (bad field, unknown id, wrong key): exit code 2. Server-side trouble: 1.</summary>
    public int ExitCode => (int)Status is >= 400 and < 500 and not 408 and not 429 ? ExitCodes.InvalidRequest : ExitCodes.Failed;

    /// <summary>Title, detail, then each invalid field on its own line, as a pipeline log should show them.</summary>
    public void WriteTo(TextWriter writer)
    {
        writer.WriteLine($"error: {(int)Status} {Problem?["title"]?.GetValue<string>() ?? Status.ToString()}");
        if (Problem?["detail"]?.GetValue<string>() is { Length: > 0 } detail) writer.WriteLine($"  {detail}");
        if (Problem?["errors"] is JsonObject errors)
            foreach (var (field, messages) in errors)
                foreach (var message in messages as JsonArray ?? [])
                    writer.WriteLine($"  {field}: {message?.GetValue<string>()}");
        if (Problem is null && body.Length > 0) writer.WriteLine($"  {body[..Math.Min(body.Length, 500)]}");
    }
}
