namespace TpcCma.Service.Storage;

/// <summary>What the store knows of one artifact without reading it.</summary>
/// <param name="Key">Relative key, e.g. <c>jobs/{id}/checkpoints/step_000100/model.safetensors</c>.</param>
/// <param name="Size">Length in bytes.</param>
/// <param name="Sha256">Lower-case hex SHA-256 recorded when the store wrote the object; null for objects written
/// by other tools, and always null in listings (S3 listings carry no object metadata).</param>
/// <param name="LastModified">When the artifact was last written, UTC.</param>
public sealed record ArtifactInfo(string Key, long Size, string? Sha256, DateTimeOffset LastModified);

/// <summary>
/// Where checkpoints and datasets are kept: a local folder on one node, or an S3-compatible bucket shared by
/// many. Keys are relative paths with '/' separators (see <see cref="ArtifactKey"/>); a key that escapes its
/// root is an <see cref="ArgumentException"/>, a missing key is null (<see cref="GetInfoAsync"/>) or a
/// <see cref="FileNotFoundException"/> (reads).
/// </summary>
public interface IArtifactStore
{
    /// <summary>Uploads a local file under <paramref name="key"/>, streamed, replacing any object there; records its SHA-256.</summary>
    Task<ArtifactInfo> PutFileAsync(string key, string localPath, CancellationToken ct = default);

    /// <summary>Size, SHA-256 and last-modified time of one artifact, or null when there is none.</summary>
    Task<ArtifactInfo?> GetInfoAsync(string key, CancellationToken ct = default);

    /// <summary>Streams <paramref name="length"/> bytes (to the end when null or past it) starting at <paramref name="offset"/>.</summary>
    Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default);

    /// <summary>Downloads to <paramref name="localPath"/> through a temporary file renamed at the end, checking the recorded SHA-256.</summary>
    Task GetFileAsync(string key, string localPath, CancellationToken ct = default);

    /// <summary>Artifacts whose key starts with <paramref name="prefix"/> (plain string prefix, as S3), in ordinal key order.</summary>
    IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, CancellationToken ct = default);

    /// <summary>Removes one artifact; removing a missing one is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken ct = default);

    /// <summary>Whether the store answers and can be used now (for <c>/readyz</c>); never throws for an unreachable store.</summary>
    Task<bool> IsReachableAsync(CancellationToken ct = default);
}
