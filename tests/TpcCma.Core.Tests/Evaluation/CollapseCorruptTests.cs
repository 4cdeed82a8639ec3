using TpcCma.Evaluation;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Evaluation;

public class CollapseCorruptTests
{
    private static (Tensor Image, Tensor Text) Pairs(int n, int d)
    {
        var g = new Generator(1).manual_seed(7);
        var image = randn(n, d, dtype: ScalarType.Float64, generator: g) + 2;   // a shared offset: a modality gap
        var text = randn(n, d, dtype: ScalarType.Float64, generator: g) - 1;
        return (image, text);
    }

    [Fact]
    public void Apply_WithoutNoise_IsMeanCentering()
    {
        using var scope = NewDisposeScope();
        var (image, text) = Pairs(20, 16);
        var (cx, cy) = CollapseCorrupt.Apply(image, text, noise: 0);
        var (mx, my) = GapGeometry.MeanCentered(image, text);
        Assert.True(cx.allclose(mx, rtol: 0, atol: 1e-12) && cy.allclose(my, rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void Apply_AddsNoiseOfTheStatedScale_Reproducibly_OnTheSphere()
    {
        using var scope = NewDisposeScope();
        var (image, text) = Pairs(200, 512);
        var (cx, cy) = CollapseCorrupt.Apply(image, text, noise: 0.1);
        var (again, _) = CollapseCorrupt.Apply(image, text, noise: 0.1);
        Assert.True(cx.allclose(again, rtol: 0, atol: 0));
        Assert.True(cx.norm(1).allclose(ones(200, dtype: ScalarType.Float64), rtol: 0, atol: 1e-9));
        Assert.True(cy.norm(1).allclose(ones(200, dtype: ScalarType.Float64), rtol: 0, atol: 1e-9));
        var (mx, _) = GapGeometry.MeanCentered(image, text);
        Assert.False(cx.allclose(mx, rtol: 0, atol: 1e-3));

        // The noise itself: per coordinate sigma / sqrt(D), so its norm is about sigma whatever D is.
        var (centered, _) = GapGeometry.Centered(image, text);
        var noise = CollapseCorrupt.Corrupt(centered, 0.1, new Generator(1).manual_seed(5)) - centered;
        Assert.InRange(noise.norm(1).mean().item<double>(), 0.095, 0.105);
        Assert.Throws<ArgumentOutOfRangeException>(() => CollapseCorrupt.Corrupt(centered, -1, new Generator(1)));
    }
}
