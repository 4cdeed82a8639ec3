using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace TpcCma.Core.Tests.Data;

/// <summary>A dataset folder in the temp directory, deleted on dispose; helpers to write images and manifests.</summary>
internal sealed class TempDataset : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("tpccma-ds-").FullName;

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Writes a small PNG whose colour depends on <paramref name="seed"/>.</summary>
    public string Png(string relative, int width = 8, int height = 8, int seed = 0)
    {
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)(seed * 37 + x * 11), (byte)(seed * 91 + y * 13), (byte)(seed * 53 + x + y));
        image.SaveAsPng(path);
        return path;
    }

    public void Bytes(string relative, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PathOf(relative))!);
        File.WriteAllBytes(PathOf(relative), bytes);
    }

    /// <summary>Writes manifest.jsonl, one object per line.</summary>
    public void Manifest(params object[] lines) =>
        File.WriteAllLines(PathOf("manifest.jsonl"), lines.Select(l => l as string ?? JsonSerializer.Serialize(l)));

    public static object Line(string image, params string[] captions) => new { image, captions };

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
