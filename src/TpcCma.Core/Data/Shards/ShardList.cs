using System.Text.RegularExpressions;

namespace TpcCma.Data.Shards;

/// <summary>One shard of a WebDataset data set: where it is (a local path or <c>s3://bucket/key</c>) and the split it holds, if the list says.</summary>
public sealed record ShardRef(string Location, string? Split)
{
    /// <summary>The name used in error locations (<c>00012.tar</c> in <c>00012.tar!KEY.jpg</c>).</summary>
    public string Name => Location[(Location.LastIndexOf('/') + 1)..];
}

/// <summary>
/// Parses a shard list: parts separated by <c>::</c> or whitespace, each optionally prefixed by a split
/// (<c>train=shards/train-{000..099}.tar::test=shards/test-000.tar</c>), each expanded as a brace pattern the way
/// WebDataset and the shell do: <c>{00000..00123}</c> is a range that keeps the zero padding of its bounds,
/// <c>{a,b,c}</c> a list; several braces multiply. Relative local paths are relative to <c>baseDirectory</c>.
/// </summary>
public static partial class ShardList
{
    [GeneratedRegex(@"\{([^{}]*)\}")]
    private static partial Regex Brace();

    [GeneratedRegex(@"^(-?\d+)\.\.(-?\d+)$")]
    private static partial Regex Range();

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9_-]*)=(.+)$")]
    private static partial Regex SplitPrefix();

    /// <summary>Whether a data set location names shards rather than a folder, manifest or archive to extract.</summary>
    public static bool IsShardList(string location) =>
        location.StartsWith("s3://", StringComparison.Ordinal) || location.Contains("::", StringComparison.Ordinal) ||
        (location.Contains('{') && location.Contains(".tar", StringComparison.Ordinal)) || SplitPrefix().IsMatch(location.Trim());

    /// <summary>The shards a list names, in the order written; throws naming the part that expands to nothing.</summary>
    public static IReadOnlyList<ShardRef> Parse(string list, string? baseDirectory = null)
    {
        var shards = new List<ShardRef>();
        foreach (var (split, pattern) in Parts(list))
        {
            var expanded = Expand(pattern);
            if (expanded.Count == 0) throw new ArgumentException($"shard pattern '{pattern}' expands to no shards");
            shards.AddRange(expanded.Select(location => new ShardRef(Resolve(location, baseDirectory), split)));
        }
        var duplicate = shards.GroupBy(s => s.Location).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"shard '{duplicate.Key}' is listed {duplicate.Count()} times");
        return shards;
    }

    /// <summary>The parts of a list as written, each with the split its prefix names (null without one), patterns unexpanded.</summary>
    public static IReadOnlyList<(string? Split, string Pattern)> Parts(string list)
    {
        var parts = list.Split(["::", " ", "\t", "\n", "\r"], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new ArgumentException("the shard list is empty");
        return [.. parts.Select(part =>
        {
            var prefixed = SplitPrefix().Match(part);
            return prefixed.Success && !part.StartsWith("s3://", StringComparison.Ordinal)
                ? (prefixed.Groups[1].Value, prefixed.Groups[2].Value)
                : ((string?)null, part);
        })];
    }

    /// <summary>
    /// The same list with its relative local patterns made absolute under <paramref name="baseDirectory"/> (remote ones
    /// unchanged): a list stored relative to a data root, resolved on the node that reads it.
    /// </summary>
    public static string Rebase(string list, string baseDirectory)
    {
        var rebased = string.Join("::", Parts(list).Select(p =>
        {
            var pattern = p.Pattern.Contains("://", StringComparison.Ordinal) || Path.IsPathRooted(p.Pattern) ? p.Pattern : Path.Combine(baseDirectory, p.Pattern);
            return p.Split is null ? pattern : $"{p.Split}={pattern}";
        }));
        // One plain path would read as an archive to extract; a trailing separator keeps it a (one-shard) list.
        return IsShardList(rebased) ? rebased : rebased + "::";
    }

    /// <summary>Expands every brace group of one pattern (an empty list when a group is empty or a range runs backwards).</summary>
    public static IReadOnlyList<string> Expand(string pattern)
    {
        var match = Brace().Match(pattern);
        if (!match.Success)
        {
            if (pattern.Contains('{') || pattern.Contains('}')) throw new ArgumentException($"shard pattern '{pattern}' has an unbalanced brace");
            return [pattern];
        }
        var head = pattern[..match.Index];
        var tails = Expand(pattern[(match.Index + match.Length)..]);
        return [.. Alternatives(match.Groups[1].Value, pattern).SelectMany(a => tails.Select(t => head + a + t))];
    }

    private static IEnumerable<string> Alternatives(string body, string pattern)
    {
        var range = Range().Match(body);
        if (range.Success)
        {
            var (first, last) = (long.Parse(range.Groups[1].Value), long.Parse(range.Groups[2].Value));
            if (last - first >= 10_000_000) throw new ArgumentException($"shard pattern '{pattern}' names more than 10,000,000 shards");
            // {00000..00123}: every number padded to the width of the bounds, as bash and WebDataset do.
            var width = range.Groups[1].Value.StartsWith('0') || range.Groups[2].Value.StartsWith('0')
                ? Math.Max(range.Groups[1].Value.Length, range.Groups[2].Value.Length)
                : 0;
            for (var i = first; i <= last; i++) yield return i.ToString().PadLeft(width, '0');
            yield break;
        }
        if (body.Length == 0) yield break;
        foreach (var item in body.Split(',')) yield return item;
    }

    private static string Resolve(string location, string? baseDirectory) =>
        location.Contains("://", StringComparison.Ordinal) || baseDirectory is null ? location : Path.GetFullPath(location, baseDirectory);
}
