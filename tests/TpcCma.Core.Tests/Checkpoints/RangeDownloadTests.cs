using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using TpcCma.Checkpoints;

namespace TpcCma.Core.Tests.Checkpoints;

/// <summary>The resume path the hub client and the CLI share: append on a matching 206, start over otherwise.</summary>
public sealed class RangeDownloadTests : IDisposable
{
    private static readonly byte[] Whole = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
    private readonly string folder = Directory.CreateTempSubdirectory("range").FullName;
    private string Part => Path.Combine(folder, "file.part");

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static HttpResponseMessage Partial(long from)
    {
        var response = new HttpResponseMessage(HttpStatusCode.PartialContent) { Content = new ByteArrayContent(Whole[(int)from..]) };
        response.Content.Headers.ContentRange = new ContentRangeHeaderValue(from, Whole.Length - 1, Whole.Length);
        return response;
    }

    [Fact]
    public async Task WriteBody_AppendsTheRest_PartialContentFromTheOffset()
    {
        await File.WriteAllBytesAsync(Part, Whole[..1200]);
        var offset = RangeDownload.ExistingLength(Part);
        var seen = new List<(long Written, long Total)>();

        using var response = Partial(offset);
        var length = await RangeDownload.WriteBodyAsync(response, Part, offset, (w, t) => seen.Add((w, t)), CancellationToken.None);

        Assert.Equal(Whole.Length, length);
        Assert.Equal(Whole, await File.ReadAllBytesAsync(Part));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Whole)), await RangeDownload.Sha256Async(Part, CancellationToken.None));
        Assert.Equal((Whole.Length, Whole.Length), seen[^1]);
    }

    [Fact]
    public async Task WriteBody_StartsOver_ServerIgnoresTheRange()
    {
        await File.WriteAllBytesAsync(Part, new byte[1200]);
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Whole) };

        await RangeDownload.WriteBodyAsync(response, Part, RangeDownload.ExistingLength(Part), null, CancellationToken.None);

        Assert.Equal(Whole, await File.ReadAllBytesAsync(Part));
    }

    [Fact]
    public async Task WriteBody_StartsOver_PartialContentFromAnotherOffset()
    {
        await File.WriteAllBytesAsync(Part, new byte[1200]);
        using var response = Partial(0);

        await RangeDownload.WriteBodyAsync(response, Part, 1200, null, CancellationToken.None);

        Assert.Equal(Whole, await File.ReadAllBytesAsync(Part));
    }

    [Fact]
    public void RequestFrom_SetsRangeAndIfRange_OnlyWhenThereIsAPart()
    {
        using var fresh = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/x");
        RangeDownload.RequestFrom(fresh, 0, "abc");
        Assert.Null(fresh.Headers.Range);
        Assert.Null(fresh.Headers.IfRange);

        using var resumed = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/x");
        RangeDownload.RequestFrom(resumed, 1200, "abc");
        Assert.Equal("bytes=1200-", resumed.Headers.Range!.ToString());
        Assert.Equal("\"abc\"", resumed.Headers.IfRange!.EntityTag!.Tag);
    }
}
