using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;

namespace TpcCma.Service.Api;

/// <summary>
/// Keyset paging of the lists (newest first): a page is cut after <c>limit</c> items, <c>has_more</c> says so and
/// <c>next</c> is the cursor to pass as <c>?cursor=</c> for the page after it. The cursor is the last item's
/// (created_at, id), so rows added meanwhile never shift a page the way an offset would.
/// </summary>
public static class ListPaging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>A position in a list: the (created_at, id) of the last item of the page before.</summary>
    public sealed record Cursor(DateTimeOffset CreatedAt, Guid Id)
    {
        public string Encode() =>
            Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{CreatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}.{Id:N}"));
    }

    /// <returns>The cursor, or the 400 to answer when <paramref name="text"/> is not one this API handed out.</returns>
    public static (Cursor? Cursor, ValidationProblem? Problem) Parse(string? text)
    {
        if (text is null) return (null, null);
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split('.');
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks && Guid.TryParseExact(parts[1], "N", out var id))
                return (new Cursor(new DateTimeOffset(ticks, TimeSpan.Zero), id), null);
        }
        catch (FormatException) { }
        return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]>
        {
            ["cursor"] = ["is not a cursor from this API: pass the `next` value of the page before"],
        }, title: "The list request is invalid"));
    }

    public static int Limit(int? limit) => Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit);

    /// <summary>The page from <paramref name="rows"/> (read with <c>limit + 1</c> to learn whether more follow).</summary>
    public static ListResponse<TOut> Page<T, TOut>(IReadOnlyList<T> rows, int limit, Func<T, Cursor> position, Func<T, TOut> map)
    {
        var page = rows.Take(limit).ToList();
        var more = rows.Count > limit;
        return new ListResponse<TOut>(page.Select(map).ToList(), more, more ? position(page[^1]).Encode() : null);
    }
}
