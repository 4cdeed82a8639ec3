using System.Formats.Tar;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Data.Shards;

namespace TpcCma.Core.Tests.Data.Shards;

/// <summary>A folder of WebDataset shards in the temp directory, deleted on dispose.</summary>
internal sealed class TempShards : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("tpccma-shards-").FullName;

    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>A small PNG whose pixels depend on <paramref name="seed"/>.</summary>
    public static byte[] Png(int seed, int width = 12, int height = 10)
    {
        using var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)(seed * 37 + x * 11), (byte)(seed * 91 + y * 13), (byte)(seed * 53 + x + y));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// <paramref name="count"/> samples <c>s000000..</c> in shards of <paramref name="shardSize"/>, each with three captions
    /// and label <c>even</c>/<c>odd</c>; returns the shard list pattern.
    /// </summary>
    public string WriteSamples(int count, int shardSize, Func<int, string?>? split = null)
    {
        using var writer = new ShardWriter(Root, shardSize);
        for (var i = 0; i < count; i++)
            writer.Write($"s{i:D6}", Png(i), "png", [$"first {i}", $"second {i}", $"third {i}"], i % 2 == 0 ? "even" : "odd", split?.Invoke(i));
        writer.WriteDescriptor(null, null);
        return PathOf(writer.Pattern);
    }

    /// <summary>A shard written member by member, for shards the writer would refuse to make.</summary>
    public string Tar(string name, params (string Member, byte[] Data)[] members)
    {
        var path = PathOf(name);
        using var stream = File.Create(path);
        using var tar = new TarWriter(stream, TarEntryFormat.Ustar);
        foreach (var (member, data) in members)
            tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, member) { DataStream = new MemoryStream(data) });
        return path;
    }

    public static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
