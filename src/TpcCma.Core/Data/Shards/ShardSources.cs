namespace TpcCma.Data.Shards;

/// <summary>
/// Opens shards of one kind of location as forward-only streams. The library reads local files itself; hosts add
/// others (the service registers <c>s3://</c> with its artifact store's S3 settings), so this library needs no
/// cloud SDK.
/// </summary>
public interface IShardSource
{
    /// <summary>Whether this source reads <paramref name="location"/> (by its scheme).</summary>
    bool Handles(string location);

    /// <summary>A stream over the shard's bytes; throws <see cref="ShardReadException"/> naming the shard when it cannot be read.</summary>
    Stream Open(ShardRef shard, CancellationToken ct);
}

/// <summary>Local shard files, read with a large sequential buffer.</summary>
public sealed class LocalShardSource : IShardSource
{
    public static LocalShardSource Instance { get; } = new();

    public bool Handles(string location) => !location.Contains("://", StringComparison.Ordinal) || location.StartsWith("file://", StringComparison.Ordinal);

    public Stream Open(ShardRef shard, CancellationToken ct)
    {
        var path = shard.Location.StartsWith("file://", StringComparison.Ordinal) ? new Uri(shard.Location).LocalPath : shard.Location;
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ShardReadException(shard.Name, null, DatasetErrorKind.MissingFile, $"shard not found: {path}", ex);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new ShardReadException(shard.Name, null, DatasetErrorKind.MissingFile, $"cannot open shard {path}: {ex.Message}", ex);
        }
    }
}

/// <summary>The sources a host offers, tried in order; local files always last.</summary>
public sealed class ShardSources(params IShardSource[] sources)
{
    public static ShardSources LocalOnly { get; } = new();

    public Stream Open(ShardRef shard, CancellationToken ct)
    {
        var source = sources.FirstOrDefault(s => s.Handles(shard.Location))
            ?? (LocalShardSource.Instance.Handles(shard.Location) ? LocalShardSource.Instance : null)
            ?? throw new ShardReadException(shard.Name, null, DatasetErrorKind.MissingFile,
                $"no reader for '{shard.Location}' here" + (shard.Location.StartsWith("s3://", StringComparison.Ordinal)
                    ? " (s3:// shards are read by the service, with its Storage:S3 settings)" : ""));
        return source.Open(shard, ct);
    }
}

/// <summary>A shard, or one member of it, that cannot be read: names both (<c>00012.tar!KEY.jpg</c>).</summary>
public sealed class ShardReadException(string shard, string? member, DatasetErrorKind kind, string message, Exception? inner = null)
    : IOException($"{ShardLocation.Of(shard, member)}: {message}", inner)
{
    public string Shard { get; } = shard;
    public string? Member { get; } = member;
    public DatasetErrorKind Kind { get; } = kind;
    public string Location => ShardLocation.Of(Shard, Member);
    public DatasetError ToError() => new(Location, Kind, Message[(Location.Length + 2)..]);
}

/// <summary>How problems inside shards are located: the shard's file name, <c>!</c>, the member.</summary>
public static class ShardLocation
{
    public static string Of(string shard, string? member) => member is null ? shard : $"{shard}!{member}";
}
