using System.Buffers.Binary;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;

namespace TpcCma.Data;

/// <summary>
/// Whether an encoded image reaches its format's end. Decoders tend to fill missing rows silently, so a file
/// cut short in transfer would otherwise train on a half-grey image.
/// </summary>
internal static class ImageEndMarker
{
    private static ReadOnlySpan<byte> PngIend => [0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82];

    public static bool IsComplete(ReadOnlySpan<byte> bytes, IImageFormat format) => format switch
    {
        PngFormat => bytes.IndexOf(PngIend) >= 0,
        JpegFormat => EndsWithJpegEoi(bytes),
        GifFormat => bytes.TrimEnd((byte)0) is { Length: > 0 } gif && gif[^1] == 0x3B,
        BmpFormat => bytes.Length >= 6 && BinaryPrimitives.ReadUInt32LittleEndian(bytes[2..6]) <= bytes.Length,
        WebpFormat => bytes.Length >= 8 && BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..8]) + 8L <= bytes.Length,
        _ => true,
    };

    // Some writers pad after EOI (FF D9); accept trailing zero bytes only.
    private static bool EndsWithJpegEoi(ReadOnlySpan<byte> bytes)
    {
        var trimmed = bytes.TrimEnd((byte)0);
        return trimmed.Length >= 2 && trimmed[^2] == 0xFF && trimmed[^1] == 0xD9;
    }
}
