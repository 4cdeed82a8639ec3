using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>Dataset archives built in memory for upload tests: valid ones, bombs and ones holding crafted images.</summary>
internal static class TestArchives
{
    /// <summary>A JSONL manifest line for one image with one caption.</summary>
    public static string Line(string image, string caption) => $"{{\"image\":\"{image}\",\"captions\":[\"{caption}\"]}}\n";

    public static byte[] Manifest(params string[] images) =>
        Encoding.UTF8.GetBytes(string.Concat(images.Select((image, i) => Line(image, $"picture {i}"))));

    public static byte[] Tar(params (string Name, byte[] Data)[] entries)
    {
        var output = new MemoryStream();
        using (var tar = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (name, data) in entries) tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        }
        return output.ToArray();
    }

    public static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }

    public static byte[] Zip(params (string Name, byte[] Data)[] entries)
    {
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.SmallestSize).Open();
                stream.Write(data);
            }
        }
        return output.ToArray();
    }

    /// <summary>A PNG of random pixels: it does not compress, so its size is about 3 x width x height bytes.</summary>
    public static byte[] Png(int width = 16, int height = 16, int seed = 0)
    {
        var random = new Random(seed);
        using var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++) image[x, y] = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// A small valid PNG whose header claims <paramref name="width"/> x <paramref name="height"/> (with a correct chunk
    /// CRC): what a decompression bomb looks like to a decoder that trusts the header.
    /// </summary>
    public static byte[] PngClaiming(int width, int height)
    {
        var png = Png();
        // Signature (8 bytes), then the IHDR chunk: length (4), type (4), width (4), height (4), 5 more bytes, CRC of type + data.
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        return png;
    }

    /// <summary>The CRC-32 PNG chunks carry (ISO 3309, reflected polynomial 0xEDB88320).</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
