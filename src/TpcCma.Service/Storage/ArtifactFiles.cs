using System.Security.Cryptography;

namespace TpcCma.Service.Storage;

/// <summary>File work both stores share: hashing while copying, and downloads that appear only when complete and verified.</summary>
internal static class ArtifactFiles
{
    /// <summary>Large enough to keep a disk or a socket busy, small enough to stay out of the large-object heap churn per call.</summary>
    public const int BufferSize = 1 << 20;

    public static string Hex(byte[] hash) => Convert.ToHexStringLower(hash);

    /// <summary>SHA-256 and length of a local file, read once, streamed.</summary>
    public static async Task<(string Sha256, long Size)> HashFileAsync(string path, CancellationToken ct)
    {
        await using var file = OpenSequential(path);
        var hash = await SHA256.HashDataAsync(file, ct);
        return (Hex(hash), file.Length);
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/>, returning the SHA-256 and length of what passed.</summary>
    public static async Task<(string Sha256, long Size)> CopyHashingAsync(Stream source, Stream destination, CancellationToken ct)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BufferSize];
        long size = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, ct)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), ct);
            size += read;
        }
        return (Hex(sha.GetHashAndReset()), size);
    }

    /// <summary>
    /// Writes <paramref name="source"/> to a temporary file beside <paramref name="localPath"/> and renames it over the
    /// target only when the whole object arrived and matches <paramref name="expectedSha256"/> (when one is known):
    /// a reader of <paramref name="localPath"/> never sees half a checkpoint.
    /// </summary>
    public static async Task DownloadAtomicallyAsync(Stream source, string key, string localPath, string? expectedSha256, CancellationToken ct)
    {
        var target = Path.GetFullPath(localPath);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = $"{target}.partial-{Guid.NewGuid():N}";
        try
        {
            string actual;
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true))
            {
                (actual, _) = await CopyHashingAsync(source, file, ct);
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
            }
            if (expectedSha256 is not null && !string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"artifact '{key}' is corrupt: its content hashes to {actual}, the store recorded {expectedSha256}");
            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public static FileStream OpenSequential(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = BufferSize, Options = FileOptions.Asynchronous | FileOptions.SequentialScan });

    /// <summary>Checks a range request against an object of <paramref name="size"/> bytes; returns how many bytes it covers.</summary>
    public static long RangeLength(string key, long size, long offset, long? length)
    {
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset), offset, "offset must be 0 or more");
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "length must be 0 or more");
        if (offset > size) throw new ArgumentOutOfRangeException(nameof(offset), offset, $"offset is past the end of '{key}' ({size} bytes)");
        return Math.Min(length ?? long.MaxValue, size - offset);
    }
}
