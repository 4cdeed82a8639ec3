using TpcCma.Evaluation;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Evaluation;

public class GapGeometryTests
{
    private static (Tensor Image, Tensor Text) PairedClouds(long seed, int n = 400, int d = 32, double offset = 0.8)
    {
        using var generator = new Generator((ulong)seed);
        var shared = randn([n, d], dtype: ScalarType.Float64, generator: generator);
        var direction = zeros([d], dtype: ScalarType.Float64);
        direction[0] = offset;
        var image = shared + 0.5 * randn([n, d], dtype: ScalarType.Float64, generator: generator) + direction;
        var text = shared + 0.5 * randn([n, d], dtype: ScalarType.Float64, generator: generator) - direction;
        return (image, text);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Measure_RawSquaredEqualsCentroidPlusDistribution_OnRandomClouds(long seed)
    {
        using var scope = NewDisposeScope();
        var (image, text) = PairedClouds(seed);

        var g = GapGeometry.Measure(image, text);

        Assert.True(g.Centroid > 0.1 && g.Distribution > 0.1);
        Assert.Equal(g.Raw * g.Raw, g.Centroid * g.Centroid + g.Distribution * g.Distribution, 1e-12);
    }

    [Fact]
    public void MeanCentered_ZeroesCentroidGapAndKeepsDistributionGap_OfNormalisedClouds()
    {
        using var scope = NewDisposeScope();
        var (image, text) = PairedClouds(7);
        var before = GapGeometry.Measure(image, text);

        // Centering alone (the operation METHOD.md argues about) leaves G_D exactly as it was.
        var x = GapGeometry.Normalise(image);
        var y = GapGeometry.Normalise(text);
        var centeredOnly = GapGeometry.Measure(x - x.mean([0]), y - y.mean([0]));
        var uncenteredDistribution = Math.Sqrt(((x - x.mean([0])) - (y - y.mean([0]))).square().sum(1).mean().item<double>());
        Assert.Equal(before.Distribution, uncenteredDistribution, 1e-12);

        // The baseline also renormalises; its centroid gap stays near zero.
        var (cx, cy) = GapGeometry.MeanCentered(image, text);
        Assert.Equal(0, cx.mean([0]).sub(cy.mean([0])).norm().item<double>(), 0.05);
        Assert.True(centeredOnly.Centroid < 0.05 * before.Centroid);
    }

    [Fact]
    public void Measure_GivesZeroGaps_ForIdenticalClouds()
    {
        using var scope = NewDisposeScope();
        var (image, _) = PairedClouds(3);

        var g = GapGeometry.Measure(image, image * 2.5);

        Assert.Equal(0, g.Raw, 1e-7);
        Assert.Equal(0, g.Centroid, 1e-7);
        Assert.Equal(0, g.Distribution, 1e-7);
        Assert.Equal(0, g.Frechet, 1e-6);
        Assert.Equal(0, g.Rmg, 1e-7);
        Assert.Equal(1, g.CosPair, 1e-12);
    }

    [Fact]
    public void Measure_AcceptsFloat32_AndAgreesWithFloat64()
    {
        using var scope = NewDisposeScope();
        var (image, text) = PairedClouds(4);

        var g64 = GapGeometry.Measure(image, text);
        var g32 = GapGeometry.Measure(image.to_type(ScalarType.Float32), text.to_type(ScalarType.Float32));

        Assert.Equal(g64.Raw, g32.Raw, 1e-6);
        Assert.Equal(g64.Frechet, g32.Frechet, 1e-5);
    }

    [Fact]
    public void Measure_Throws_WhenShapesDiffer()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => GapGeometry.Measure(randn(5, 4), randn(6, 4)));
        Assert.Contains("[5, 4]", ex.Message);
    }

    [Fact]
    public void Reduction_IsPercentOfGapRemoved()
    {
        var before = new GapMeasures(1.0, 0.8, 0.6, 0, 0, 0, 0);
        var after = new GapMeasures(0.5, 0.2, 0.6, 0, 0, 0, 0);

        var r = GapReduction.Between(before, after);

        Assert.Equal(50, r.Raw, 1e-12);
        Assert.Equal(75, r.Centroid, 1e-12);
        Assert.Equal(0, r.Distribution, 1e-12);
    }
}
