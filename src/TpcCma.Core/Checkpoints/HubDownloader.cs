using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace TpcCma.Checkpoints;

/// <summary>Where and how to fetch hub models.</summary>
/// <param name="BaseUrl">Hub root, e.g. <c>https://huggingface.co</c>; files are at <c>{base}/{org}/{name}/resolve/{revision}/{file}</c>.</param>
/// <param name="CacheDirectory">Downloads land in <c>{cache}/{org}--{name}--{revision}/</c>.</param>
/// <param name="AllowedHosts">Hosts the base URL (and any redirect) may point at.</param>
/// <param name="Token">Optional bearer token.</param>
public sealed record HubOptions(Uri BaseUrl, string CacheDirectory, IReadOnlyList<string> AllowedHosts, string? Token = null);

/// <summary>
/// Downloads the files of an HF CLIP folder into a local cache. Each file is fetched to a <c>.part</c> file that a
/// later attempt resumes with an HTTP Range request, checked against the sha256 the hub gives as (linked) ETag for
/// large files, then renamed into place; finished files are not fetched again.
/// </summary>
public sealed partial class HubDownloader(HubOptions options, HttpClient? http = null)
{
    /// <summary>Files an HF CLIP folder needs.</summary>
    public static readonly string[] RequiredFiles = ["config.json", "model.safetensors", "vocab.json", "merges.txt"];

    /// <summary>Files copied when the hub has them.</summary>
    public static readonly string[] OptionalFiles = ["preprocessor_config.json", "tokenizer_config.json", "special_tokens_map.json"];

    // Redirects are followed by hand, so each hop's host is checked against the allowed list.
    private static readonly HttpClient Shared = new(new SocketsHttpHandler { AllowAutoRedirect = false });
    private readonly HttpClient http = http ?? Shared;

    /// <summary>Downloads (or finds in the cache) every file of <paramref name="reference"/>; returns the local folder.</summary>
    public async Task<string> DownloadAsync(HubReference reference, CancellationToken ct = default)
    {
        CheckHost(options.BaseUrl);
        var folder = Path.Combine(options.CacheDirectory, reference.CacheKey);
        Directory.CreateDirectory(folder);
        foreach (var file in RequiredFiles) await FetchAsync(reference, file, folder, required: true, ct);
        foreach (var file in OptionalFiles) await FetchAsync(reference, file, folder, required: false, ct);
        return folder;
    }

    private async Task FetchAsync(HubReference reference, string file, string folder, bool required, CancellationToken ct)
    {
        var target = Path.Combine(folder, file);
        if (File.Exists(target)) return;
        var part = RangeDownload.PartPath(target);
        var url = new Uri(options.BaseUrl, $"{Uri.EscapeDataString(reference.Organisation)}/{Uri.EscapeDataString(reference.Name)}/resolve/{Uri.EscapeDataString(reference.Revision)}/{file}");
        var offset = RangeDownload.ExistingLength(part);

        var response = await SendAsync(url, offset, ct);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The .part file is not a prefix of what the hub now serves: start again.
            response.Dispose();
            File.Delete(part);
            offset = 0;
            response = await SendAsync(url, offset, ct);
        }
        using var _ = response;
        if (response.StatusCode == HttpStatusCode.NotFound && !required) return;
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{reference}: {file} could not be fetched from {url} ({(int)response.StatusCode} {response.ReasonPhrase})", null, response.StatusCode);
        var expectedSha = Sha256Of(response);
        await RangeDownload.WriteBodyAsync(response, part, offset, progress: null, ct);

        if (expectedSha is not null)
        {
            var actual = await RangeDownload.Sha256Async(part, ct);
            if (!string.Equals(actual, expectedSha, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(part);
                throw new InvalidDataException($"{reference}: {file} is corrupt (sha256 {actual}, the hub says {expectedSha}); the partial download was removed");
            }
        }
        File.Move(part, target, overwrite: true);
    }

    /// <summary>GET with Range from <paramref name="offset"/>, following redirects (e.g. to a CDN) only to allowed hosts.</summary>
    private async Task<HttpResponseMessage> SendAsync(Uri url, long offset, CancellationToken ct)
    {
        for (var hops = 0; hops < 5; hops++)
        {
            CheckHost(url);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (options.Token is { Length: > 0 } token && url.Host == options.BaseUrl.Host)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            RangeDownload.RequestFrom(request, offset);
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                url = location.IsAbsoluteUri ? location : new Uri(url, location);
                response.Dispose();
                continue;
            }
            return response;
        }
        throw new HttpRequestException($"too many redirects fetching {url}");
    }

    /// <summary>Refuses a hub whose base URL is not an allowed host, before anything is contacted.</summary>
    public void CheckBaseUrl() => CheckHost(options.BaseUrl);

    private void CheckHost(Uri url)
    {
        if (!options.AllowedHosts.Contains(url.Host, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"host '{url.Host}' is not in the allowed hub hosts ({string.Join(", ", options.AllowedHosts)})");
    }

    /// <summary>The hub sends the sha256 of LFS files as <c>X-Linked-Etag</c> (or ETag); small git files get a sha1 instead.</summary>
    private static string? Sha256Of(HttpResponseMessage response)
    {
        var candidates = new List<string>();
        if (response.Headers.TryGetValues("X-Linked-Etag", out var linked)) candidates.AddRange(linked);
        if (response.Headers.ETag is { } etag) candidates.Add(etag.Tag);
        return candidates.Select(c => Sha256Pattern().Match(c)).FirstOrDefault(m => m.Success)?.Groups[1].Value;
    }

    [GeneratedRegex(@"^(?:W/)?""?([0-9a-fA-F]{64})""?$")]
    private static partial Regex Sha256Pattern();
}
