using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Data;
using TpcCma.Data.Sources;

namespace TpcCma.Core.Tests.Data;

public class SyntheticShapesTests
{
    [Fact]
    public void Write_SameSeed_GivesIdenticalFiles_AndAValidDataset()
    {
        using var a = new TempDataset();
        using var b = new TempDataset();
        var options = new SyntheticShapesOptions(Count: 24, Size: 24, Seed: 5);
        var dataset = SyntheticShapes.Write(a.Root, options);
        SyntheticShapes.Write(b.Root, options);
        Assert.Equal(File.ReadAllText(a.PathOf("manifest.jsonl")), File.ReadAllText(b.PathOf("manifest.jsonl")));
        Assert.Equal(File.ReadAllBytes(a.PathOf("images/000017.png")), File.ReadAllBytes(b.PathOf("images/000017.png")));
        Assert.Equal(24, dataset.Samples.Count);
        Assert.Equal(48, dataset.ClassNames.Count);
        Assert.All(dataset.Samples, s => Assert.Equal(3, s.Captions.Count));
        Assert.Equal(["test", "train"], dataset.SplitNames);
        // Every caption names the label's colour.
        Assert.All(dataset.Samples, s => Assert.All(s.Captions, c => Assert.Contains(s.Label!.Split(' ')[0], c)));
        Assert.DoesNotContain(dataset.Samples.SelectMany(s => s.Captions), c => c.Contains("a orange"));
    }

    [Fact]
    public void Draw_DependsOnSeedAndIndexOnly()
    {
        var small = new SyntheticShapesOptions(Count: 5, Size: 16, Seed: 1);
        var large = small with { Count = 500 };
        var (imageA, _, captionsA, labelA, _) = SyntheticShapes.Draw(3, small);
        var (imageB, _, captionsB, labelB, _) = SyntheticShapes.Draw(3, large);
        var (imageC, _, _, _, _) = SyntheticShapes.Draw(3, small with { Seed = 2 });
        using (imageA) using (imageB) using (imageC)
        {
            Assert.Equal(captionsA, captionsB);
            Assert.Equal(labelA, labelB);
            Assert.Equal(Pixels(imageA), Pixels(imageB));
            Assert.NotEqual(Pixels(imageA), Pixels(imageC));
        }
    }

    [Fact]
    public void Fill_Circle_CoversItsAreaWithAntialiasedEdge()
    {
        using var image = new Image<Rgb24>(40, 40, new Rgb24(0, 0, 0));
        ShapeRasteriser.Fill(image, ShapeKind.Circle, 20, 20, 10, 0, new Rgb24(255, 255, 255));
        var coverage = Pixels(image).Where((_, i) => i % 3 == 0).Sum(v => v / 255.0);
        Assert.InRange(coverage, Math.PI * 100 * 0.98, Math.PI * 100 * 1.02);
        Assert.Equal(255, image[20, 20].R);
        Assert.Equal(0, image[20, 31].R);
        Assert.Contains(Pixels(image), v => v is > 20 and < 235); // anti-aliased rim
    }

    [Fact]
    public void Fill_Star_IsConcave_AndCrossLeavesCornersEmpty()
    {
        using var star = new Image<Rgb24>(40, 40);
        ShapeRasteriser.Fill(star, ShapeKind.Star, 20, 20, 18, 0, new Rgb24(255, 0, 0));
        Assert.Equal(255, star[20, 20].R);  // centre
        Assert.Equal(255, star[20, 7].R);   // inside the top point
        Assert.Equal(0, star[26, 8].R);     // between the top and upper-right points
        using var cross = new Image<Rgb24>(40, 40);
        ShapeRasteriser.Fill(cross, ShapeKind.Cross, 20, 20, 18, 0, new Rgb24(0, 255, 0));
        Assert.Equal(255, cross[20, 4].G);
        Assert.Equal(255, cross[4, 20].G);
        Assert.Equal(0, cross[8, 8].G);
    }

    [Theory]
    [InlineData(0, 64)]
    [InlineData(10, 4)]
    public void Options_RejectBadCountOrSize(int count, int size) =>
        Assert.Throws<ArgumentException>(() => new SyntheticShapesOptions(count, size).Validated());

    private static byte[] Pixels(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }
}
