using System.Runtime.CompilerServices;
using System.Text.Json;

namespace TpcCma.Service.Storage;

/// <summary>
/// Artifacts as files under one folder (<c>Service:ArtifactRoot</c>): the default for a single node or a shared
/// volume. Each file written through the store gets a small record of its SHA-256 under <c>.meta/sha256/</c>,
/// trusted only while the file keeps the size and modification time it had then. Writes go to
/// <c>.meta/tmp/</c> and are renamed into place, so readers never see a partial file.
/// </summary>
public sealed class LocalArtifactStore : IArtifactStore
{
    private sealed record HashRecord(string Sha256, long Size, long LastWriteUtcTicks);

    private readonly string hashRoot;
    private readonly string temporaryRoot;

    public LocalArtifactStore(string root)
    {
        Root = Path.GetFullPath(root);
        hashRoot = Path.Combine(Root, ArtifactKey.ReservedFolder, "sha256");
        temporaryRoot = Path.Combine(Root, ArtifactKey.ReservedFolder, "tmp");
    }

    public string Root { get; }

    /// <summary>Where <paramref name="key"/> lives on disk; for code that must hand a path to a library.</summary>
    public string PathOf(string key)
    {
        ArtifactKey.Validate(key);
        var path = Path.GetFullPath(Path.Combine(Root, key));
        // The key rules already forbid escapes; this guards the rules themselves.
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"artifact key '{key}' resolves outside the store's root {Root}", nameof(key));
        return path;
    }

    public async Task<ArtifactInfo> PutFileAsync(string key, string localPath, CancellationToken ct = default)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(temporaryRoot);
        var temporary = Path.Combine(temporaryRoot, Guid.NewGuid().ToString("N"));
        try
        {
            string sha256;
            long size;
            await using (var source = ArtifactFiles.OpenSequential(localPath))
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, ArtifactFiles.BufferSize, useAsync: true))
            {
                (sha256, size) = await ArtifactFiles.CopyHashingAsync(source, file, ct);
                file.Flush(flushToDisk: true);
            }
            // A rename keeps the modification time, so the record written first matches the file that lands.
            var lastWrite = File.GetLastWriteTimeUtc(temporary);
            await WriteHashRecordAsync(key, new HashRecord(sha256, size, lastWrite.Ticks), ct);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(temporary, target, overwrite: true);
            return new ArtifactInfo(key, size, sha256, new DateTimeOffset(lastWrite));
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public async Task<ArtifactInfo?> GetInfoAsync(string key, CancellationToken ct = default)
    {
        var file = new FileInfo(PathOf(key));
        if (!file.Exists) return null;
        var record = await ReadHashRecordAsync(key, ct);
        var current = record is not null && record.Size == file.Length && record.LastWriteUtcTicks == file.LastWriteTimeUtc.Ticks;
        return new ArtifactInfo(key, file.Length, current ? record!.Sha256 : null, new DateTimeOffset(file.LastWriteTimeUtc));
    }

    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        var path = PathOf(key);
        FileStream file;
        try { file = ArtifactFiles.OpenSequential(path); }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"artifact '{key}' does not exist in {Root}", path, ex);
        }
        try
        {
            var count = ArtifactFiles.RangeLength(key, file.Length, offset, length);
            file.Seek(offset, SeekOrigin.Begin);
            return Task.FromResult<Stream>(new BoundedReadStream(file, count));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public async Task GetFileAsync(string key, string localPath, CancellationToken ct = default)
    {
        var info = await GetInfoAsync(key, ct) ?? throw new FileNotFoundException($"artifact '{key}' does not exist in {Root}", PathOf(key));
        await using var source = await OpenReadAsync(key, 0, null, ct);
        await ArtifactFiles.DownloadAtomicallyAsync(source, key, localPath, info.Sha256, ct);
    }

    public async IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArtifactKey.ValidatePrefix(prefix);
        // Only the folder part of the prefix narrows the walk; the rest is matched as a string, as S3 does.
        var folder = prefix.Contains('/') ? prefix[..prefix.LastIndexOf('/')] : "";
        var start = folder.Length == 0 ? Root : Path.Combine(Root, folder);
        if (!Directory.Exists(start)) yield break;
        var keys = new List<string>();
        foreach (var path in Directory.EnumerateFiles(start, "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal) && IsArtifactKey(key)) keys.Add(key);
        }
        keys.Sort(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            ct.ThrowIfCancellationRequested();
            var file = new FileInfo(Path.Combine(Root, key));
            if (file.Exists) yield return new ArtifactInfo(key, file.Length, null, new DateTimeOffset(file.LastWriteTimeUtc));
        }
        await Task.CompletedTask;
    }

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        var path = PathOf(key);
        DeleteIfPresent(path);
        DeleteIfPresent(HashRecordPath(key));
        RemoveEmptyFolders(Path.GetDirectoryName(path)!);
        return Task.CompletedTask;
    }

    public Task<bool> IsReachableAsync(CancellationToken ct = default)
    {
        try
        {
            Directory.CreateDirectory(temporaryRoot);
            var probe = Path.Combine(temporaryRoot, $"ready-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return Task.FromResult(true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(false);
        }
    }

    /// <summary>File.Delete ignores a missing file but not a missing folder; neither is an error for a delete.</summary>
    private static void DeleteIfPresent(string path)
    {
        try { File.Delete(path); }
        catch (DirectoryNotFoundException) { }
    }

    private static bool IsArtifactKey(string key)
    {
        try { ArtifactKey.Validate(key); return true; }
        catch (ArgumentException) { return false; }
    }

    /// <summary>Folders exist only to hold files here, as in a bucket; an emptied job folder goes away with its last file.</summary>
    private void RemoveEmptyFolders(string folder)
    {
        while (folder.Length > Root.Length && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
        {
            try { Directory.Delete(folder); }
            catch (IOException) { return; } // another writer just put a file here
            folder = Path.GetDirectoryName(folder)!;
        }
    }

    private string HashRecordPath(string key) => Path.Combine(hashRoot, key + ".json");

    private async Task WriteHashRecordAsync(string key, HashRecord record, CancellationToken ct)
    {
        var path = HashRecordPath(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = Path.Combine(temporaryRoot, Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(record), ct);
        File.Move(temporary, path, overwrite: true);
    }

    private async Task<HashRecord?> ReadHashRecordAsync(string key, CancellationToken ct)
    {
        try { return JsonSerializer.Deserialize<HashRecord>(await File.ReadAllTextAsync(HashRecordPath(key), ct)); }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or JsonException) { return null; }
    }
}
