using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Cli.Rendering;
using TpcCma.Data.Sources;

namespace TpcCma.Core.Tests.Data;

public class SkiaSvgRendererTests
{
    private static Image<Rgb24> Draw(string body, int size, double width = 16, double height = 16) =>
        Image.Load<Rgb24>(SkiaSvgRenderer.RenderPng(new IconGlyph("x", body, 0, 0, width, height).SvgDocument(size), size));

    [Fact]
    public void RenderPng_DrawsCurrentColorBlackOnWhite_AtTheAskedSize()
    {
        using var image = Draw(IconFixture.Square, 32);   // the square covers 4..12 of 16 units: pixels 8..24
        Assert.Equal((32, 32), (image.Width, image.Height));
        Assert.Equal(new Rgb24(0, 0, 0), image[16, 16]);
        Assert.Equal(new Rgb24(255, 255, 255), image[2, 2]);
        Assert.Equal(new Rgb24(255, 255, 255), image[28, 28]);
    }

    [Fact]
    public void RenderPng_KeepsTheColoursOfAMultiColourIcon()
    {
        using var image = Draw(IconFixture.RedSquare + "<path fill=\"#00ff00\" d=\"M12 12h4v4h-4z\"/>", 16);
        Assert.Equal(new Rgb24(255, 0, 0), image[8, 8]);
        Assert.Equal(new Rgb24(0, 255, 0), image[14, 14]);
    }

    [Fact]
    public void RenderPng_ScalesTheViewBoxToTheSize()
    {
        // A 24-unit view box drawn at 48 pixels: the square at 4..12 units covers pixels 8..24.
        using var image = Draw(IconFixture.Square, 48, 24, 24);
        Assert.Equal(new Rgb24(0, 0, 0), image[9, 9]);
        Assert.Equal(new Rgb24(255, 255, 255), image[30, 30]);
    }

    [Theory]
    [InlineData("<path d=\"M0 0\"<<broken")]   // not XML
    [InlineData("")]                           // draws nothing
    public void RenderPng_RejectsWhatItCannotDraw(string body) =>
        Assert.Throws<InvalidDataException>(() => SkiaSvgRenderer.RenderPng(new IconGlyph("x", body, 0, 0, 16, 16).SvgDocument(16), 16));
}
