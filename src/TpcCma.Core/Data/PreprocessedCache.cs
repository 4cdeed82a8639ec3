using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace TpcCma.Data;

/// <summary>
/// Preprocessed images as raw float32 files, one per image, named by SHA-256 of the image's path, size and mtime and
/// the processor settings, so a changed file or setting never reads a stale entry. Writes go to a temporary name
/// and are renamed, so a crash leaves no half-written entry.
/// </summary>
internal sealed class PreprocessedCache(string directory, ImageProcessorConfig config)
{
    private readonly string settings = $"{config.Size}|{string.Join(',', config.Mean)}|{string.Join(',', config.Std)}";

    public float[]? TryRead(string imagePath)
    {
        var path = EntryPath(imagePath);
        if (!File.Exists(path)) return null;
        var bytes = File.ReadAllBytes(path);
        var expected = 3 * config.Size * config.Size * sizeof(float);
        return bytes.Length == expected ? MemoryMarshal.Cast<byte, float>(bytes).ToArray() : null;
    }

    public void Write(string imagePath, float[] values)
    {
        var path = EntryPath(imagePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        File.WriteAllBytes(temp, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        File.Move(temp, path, overwrite: true);
    }

    private string EntryPath(string imagePath)
    {
        var info = new FileInfo(imagePath);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{Path.GetFullPath(imagePath)}|{info.Length}|{info.LastWriteTimeUtc.Ticks}|{settings}")));
        return Path.Combine(directory, key[..2], key + ".f32");
    }
}
