using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace TpcCma.Data;

/// <summary>Limits that guard decoding against huge files and decompression bombs.</summary>
/// <param name="MaxPixels">Largest width x height accepted, checked from the header before decoding.</param>
/// <param name="MaxFileBytes">Largest file size accepted.</param>
public sealed record ImageLimits(long MaxPixels = 40_000_000, long MaxFileBytes = 64L << 20)
{
    public static ImageLimits Default { get; } = new();
}

/// <summary>An image that cannot be used; names the file and the kind of problem.</summary>
public sealed class ImageLoadException(string path, DatasetErrorKind kind, string message, Exception? inner = null)
    : Exception($"{path}: {message}", inner)
{
    public string ImagePath { get; } = path;
    public DatasetErrorKind Kind { get; } = kind;
    public string Reason { get; } = message;
}

/// <summary>
/// Decodes png, jpeg, gif (first frame), bmp and webp to RGB. Reads the header first (format, dimensions) and
/// refuses oversized images before any pixel buffer is allocated; checks the format's end marker so truncated
/// files are reported instead of decoded with missing rows.
/// </summary>
public static class ImageLoader
{
    /// <summary>The formats accepted, by ImageSharp's format name.</summary>
    public static IReadOnlyList<string> AllowedFormats { get; } = ["PNG", "JPEG", "GIF", "BMP", "Webp"];

    // Only the allowed decoders; the default configuration is used just to name a recognised but refused format.
    private static readonly Configuration Allowed = new(
        new PngConfigurationModule(), new JpegConfigurationModule(), new GifConfigurationModule(),
        new BmpConfigurationModule(), new WebpConfigurationModule());

    /// <summary>Decodes the file at <paramref name="path"/> to RGB; throws <see cref="ImageLoadException"/> naming the file.</summary>
    public static Image<Rgb24> Load(string path, ImageLimits? limits = null)
    {
        var bytes = ReadChecked(path, limits ?? ImageLimits.Default);
        return Decode(bytes, path, limits ?? ImageLimits.Default);
    }

    /// <summary>Checks the file's size, format, dimensions and end marker without decoding pixels.</summary>
    public static (int Width, int Height, string Format) CheckHeader(string path, ImageLimits? limits = null)
    {
        var bytes = ReadChecked(path, limits ?? ImageLimits.Default);
        var (format, width, height) = Identify(bytes, path, limits ?? ImageLimits.Default);
        return (width, height, format.Name);
    }

    /// <summary>Checks encoded bytes (size, format, dimensions, end marker) without decoding pixels; <paramref name="name"/> is used in errors.</summary>
    public static (int Width, int Height, string Format) CheckHeader(byte[] bytes, string name, ImageLimits limits)
    {
        if (bytes.Length > limits.MaxFileBytes)
            throw new ImageLoadException(name, DatasetErrorKind.ImageTooLarge, $"image is {bytes.Length} bytes, over the limit of {limits.MaxFileBytes}");
        var (format, width, height) = Identify(bytes, name, limits);
        return (width, height, format.Name);
    }

    /// <summary>Checks the file as <see cref="Load"/> does (header, size, end marker, full decode) without keeping the pixels.</summary>
    public static (int Width, int Height, string Format) Inspect(string path, ImageLimits? limits = null)
    {
        var bytes = ReadChecked(path, limits ?? ImageLimits.Default);
        using var image = Decode(bytes, path, limits ?? ImageLimits.Default);
        return (image.Width, image.Height, Image.DetectFormat(bytes).Name);
    }

    /// <summary>Decodes encoded image bytes; <paramref name="name"/> is used in error messages.</summary>
    public static Image<Rgb24> Decode(byte[] bytes, string name, ImageLimits limits)
    {
        var (format, _, _) = Identify(bytes, name, limits);
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            return format is GifFormat
                ? Image.Load<Rgb24>(Allowed, stream, new GifDecoder { DecodingMode = SixLabors.ImageSharp.Metadata.FrameDecodingMode.First })
                : Image.Load<Rgb24>(Allowed, stream);
        }
        catch (Exception ex) when (ex is ImageFormatException or InvalidImageContentException or UnknownImageFormatException or EndOfStreamException or IndexOutOfRangeException or ArgumentException)
        {
            throw new ImageLoadException(name, DatasetErrorKind.TruncatedImage, $"image data is corrupt or truncated ({ex.Message})", ex);
        }
    }

    private static byte[] ReadChecked(string path, ImageLimits limits)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new ImageLoadException(path, DatasetErrorKind.MissingFile, "file not found");
        if (info.Length > limits.MaxFileBytes)
            throw new ImageLoadException(path, DatasetErrorKind.ImageTooLarge, $"file is {info.Length} bytes, over the limit of {limits.MaxFileBytes}");
        return File.ReadAllBytes(path);
    }

    private static (IImageFormat Format, int Width, int Height) Identify(byte[] bytes, string name, ImageLimits limits)
    {
        if (bytes.Length == 0) throw new ImageLoadException(name, DatasetErrorKind.UndecodableImage, "file is empty");
        var known = Image.DetectFormat(bytes);
        if (known is null) throw new ImageLoadException(name, DatasetErrorKind.UndecodableImage, "not a recognised image format");
        var format = Allowed.ImageFormatsManager.FindFormatByMimeType(known.DefaultMimeType);
        if (format is null)
            throw new ImageLoadException(name, DatasetErrorKind.UnsupportedFormat,
                $"format {known.Name} is not supported (allowed: {string.Join(", ", AllowedFormats)})");
        IImageInfo? info;
        try { info = Image.Identify(Allowed, bytes, out _); }
        catch (Exception ex) when (ex is ImageFormatException or InvalidImageContentException or EndOfStreamException or IndexOutOfRangeException or ArgumentException)
        {
            throw new ImageLoadException(name, DatasetErrorKind.UndecodableImage, $"corrupt {format.Name} header ({ex.Message})", ex);
        }
        if (info is null) throw new ImageLoadException(name, DatasetErrorKind.UndecodableImage, $"corrupt {format.Name} header");
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageLoadException(name, DatasetErrorKind.ZeroDimension, $"image is {info.Width}x{info.Height}");
        if ((long)info.Width * info.Height > limits.MaxPixels)
            throw new ImageLoadException(name, DatasetErrorKind.ImageTooLarge,
                $"image is {info.Width}x{info.Height} = {(long)info.Width * info.Height} pixels, over the limit of {limits.MaxPixels}");
        if (!ImageEndMarker.IsComplete(bytes, format))
            throw new ImageLoadException(name, DatasetErrorKind.TruncatedImage, $"{format.Name} file is truncated (no end marker)");
        return (format, info.Width, info.Height);
    }
}
