using System.Xml;
using SkiaSharp;
using Svg.Skia;
using TpcCma.Data.Sources;

namespace TpcCma.Cli.Rendering;

/// <summary>
/// Draws SVG documents with Svg.Skia onto a white square and encodes PNG. Lives in the CLI, not in the science
/// library, so the service (which plots with SkiaSharp 3 through ScottPlot) never loads SkiaSharp 4.
/// </summary>
public static class SkiaSvgRenderer
{
    public static SvgRenderer Renderer { get; } = new("svg.skia-5.2.3/skiasharp-4.150.6", RenderPng);

    /// <exception cref="InvalidDataException">The document is not SVG that Svg.Skia can draw, or it draws nothing.</exception>
    public static byte[] RenderPng(string svg, int size)
    {
        using var document = new SKSvg();
        SKPicture? picture;
        try { picture = document.FromSvg(svg); }
        catch (Exception ex) when (ex is XmlException or FormatException or ArgumentException or InvalidOperationException or NullReferenceException)
        {
            // Svg.Skia reports a malformed document through whatever its parser throws; one bad icon must not end the import.
            throw new InvalidDataException($"not drawable SVG: {ex.GetType().Name}: {ex.Message}", ex);
        }
        if (picture is null) throw new InvalidDataException("not drawable SVG: Svg.Skia returned no picture");
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            // The document's width and height are the asked size; a picture of another size is scaled to fit.
            var bounds = picture.CullRect;
            if (bounds.Width > 0 && bounds.Height > 0 && (bounds.Width != size || bounds.Height != size))
                canvas.Scale(size / bounds.Width, size / bounds.Height);
            canvas.DrawPicture(picture);
            canvas.Flush();
        }
        picture.Dispose();
        if (IsBlank(bitmap)) throw new InvalidDataException("the SVG draws nothing (every pixel is white)");
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private static bool IsBlank(SKBitmap bitmap)
    {
        foreach (var pixel in bitmap.Pixels)
            if (pixel.Red != 255 || pixel.Green != 255 || pixel.Blue != 255) return false;
        return true;
    }
}
