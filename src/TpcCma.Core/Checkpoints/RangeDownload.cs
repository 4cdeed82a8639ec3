using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace TpcCma.Checkpoints;

/// <summary>
/// The resumable transfer both downloaders share (the hub client and <c>tpccma checkpoints download</c>): bytes
/// land in a <c>.part</c> file, a later attempt asks for the rest with an HTTP <c>Range</c> request, and the finished
/// part is hashed with sha256 before it is renamed into place. Where to fetch from and which hash to trust stay with
/// the caller.
/// </summary>
public static class RangeDownload
{
    private const int BufferSize = 1 << 16;

    /// <summary>The part file that holds an unfinished download of <paramref name="target"/>.</summary>
    public static string PartPath(string target) => target + ".part";

    /// <summary>How many bytes an earlier attempt left in <paramref name="part"/> (0 when there is none).</summary>
    public static long ExistingLength(string part) => File.Exists(part) ? new FileInfo(part).Length : 0;

    /// <summary>Asks for the bytes from <paramref name="offset"/> on; with <paramref name="ifRangeEtag"/> only while the file is still that one.</summary>
    public static void RequestFrom(HttpRequestMessage request, long offset, string? ifRangeEtag = null)
    {
        if (offset <= 0) return;
        request.Headers.Range = new RangeHeaderValue(offset, null);
        if (ifRangeEtag is not null) request.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue($"\"{ifRangeEtag}\""));
    }

    /// <summary>True when <paramref name="response"/> carries the rest of the file from <paramref name="offset"/>, so the part is appended to.</summary>
    public static bool IsContinuation(HttpResponseMessage response, long offset) =>
        offset > 0 && response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == offset;

    /// <summary>
    /// Writes the response body into <paramref name="part"/>: appended when it continues the part, otherwise the part
    /// starts over. <paramref name="progress"/> hears (bytes written, total or -1). Returns the part's length.
    /// </summary>
    public static async Task<long> WriteBodyAsync(HttpResponseMessage response, string part, long offset, Action<long, long>? progress, CancellationToken ct)
    {
        var resumed = IsContinuation(response, offset);
        var written = resumed ? offset : 0;
        var total = resumed ? response.Content.Headers.ContentRange?.Length ?? -1 : response.Content.Headers.ContentLength ?? -1;
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await using var file = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
        var buffer = new byte[BufferSize];
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            await file.WriteAsync(buffer.AsMemory(0, read), ct);
            written += read;
            progress?.Invoke(written, total);
        }
        return written;
    }

    /// <summary>The lower-case hex sha256 of a file.</summary>
    public static async Task<string> Sha256Async(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
    }
}
