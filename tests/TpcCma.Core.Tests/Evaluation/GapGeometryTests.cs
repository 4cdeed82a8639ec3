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

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    public void MeasureAsGiven_OfCenteredClouds_HasNoCentroidGapAndTheBaseDistributionGap(long seed)
    {
        using var scope = NewDisposeScope();
        var (image, text) = PairedClouds(seed, offset: 3.0);
        var baseGaps = GapGeometry.Measure(image, text);

        var (cx, cy) = GapGeometry.Centered(image, text);
        var centered = GapGeometry.MeasureAsGiven(cx, cy);

        Assert.True(baseGaps.Centroid > 0.5, $"the planted offset should give a centroid gap, got {baseGaps.Centroid}");
        Assert.Equal(0, centered.Centroid, 1e-12);
        Assert.Equal(baseGaps.Distribution, centered.Distribution, 1e-12);
        Assert.Equal(centered.Raw * centered.Raw, centered.Centroid * centered.Centroid + centered.Distribution * centered.Distribution, 1e-12);
        Assert.Equal(baseGaps.Raw * baseGaps.Raw, baseGaps.Centroid * baseGaps.Centroid + baseGaps.Distribution * baseGaps.Distribution, 1e-12);
        // Cosines are per-row scale-free: centering changes them, renormalising does not.
        var (rx, ry) = GapGeometry.MeanCentered(image, text);
        var renormalised = GapGeometry.Measure(rx, ry);
        Assert.Equal(renormalised.CosPair, centered.CosPair, 1e-12);
        // Renormalising the shorter centred vectors back to unit length inflates G_D: why it is reported apart.
        Assert.True(renormalised.Distribution > baseGaps.Distribution * 1.05, $"{renormalised.Distribution} vs {baseGaps.Distribution}");
    }

    [Fact]
    public void Measure_ReportsSpreadsAndMismatch_AsComputedFromTheirDefinitions()
    {
        // Three pairs in the plane, written out: the expected numbers come from plain loops below, not from torch.
        double[][] imageRows = [[1, 0], [0.6, 0.8], [0, 1]];
        double[][] textRows = [[0.8, 0.6], [1, 0], [-0.6, 0.8]];
        using var scope = NewDisposeScope();
        var g = GapGeometry.Measure(tensor(imageRows.SelectMany(r => r).ToArray(), [3, 2]), tensor(textRows.SelectMany(r => r).ToArray(), [3, 2]));

        var (traceX, cosX) = SpreadByHand(imageRows);
        var (traceY, cosY) = SpreadByHand(textRows);
        var n = imageRows.Length;
        double[] muX = [imageRows.Average(r => r[0]), imageRows.Average(r => r[1])];
        double[] muY = [textRows.Average(r => r[0]), textRows.Average(r => r[1])];
        var gd2 = Enumerable.Range(0, n).Sum(i => Enumerable.Range(0, 2)
            .Sum(k => Math.Pow(imageRows[i][k] - muX[k] - (textRows[i][k] - muY[k]), 2))) / n;

        Assert.Equal(traceX, g.ImageSpread!.CovarianceTrace, 1e-12);
        Assert.Equal(traceY, g.TextSpread!.CovarianceTrace, 1e-12);
        Assert.Equal(cosX, g.ImageSpread.CosineDistance, 1e-12);
        Assert.Equal(cosY, g.TextSpread.CosineDistance, 1e-12);
        Assert.Equal(gd2, g.Distribution * g.Distribution, 1e-12);
        Assert.Equal(gd2 / (traceX + traceY), g.Mismatch!.Value, 1e-12);
    }

    /// <summary>(1/N) sum_i ||x_i - mu||^2 and the mean of 1 - cos over ordered distinct pairs, of unit rows.</summary>
    private static (double Trace, double CosineDistance) SpreadByHand(double[][] rows)
    {
        var n = rows.Length;
        var d = rows[0].Length;
        var mu = Enumerable.Range(0, d).Select(k => rows.Average(r => r[k])).ToArray();
        var trace = rows.Sum(r => Enumerable.Range(0, d).Sum(k => (r[k] - mu[k]) * (r[k] - mu[k]))) / n;
        double total = 0;
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                if (i != j) total += 1 - Enumerable.Range(0, d).Sum(k => rows[i][k] * rows[j][k]);
        return (trace, total / (n * (n - 1)));
    }

    [Fact]
    public void Mismatch_IsScaleFree_WhileTheDistributionGapShrinksWithTheClouds()
    {
        using var scope = NewDisposeScope();
        var (image, text) = PairedClouds(9);
        var (cx, cy) = GapGeometry.Centered(image, text);

        var full = GapGeometry.MeasureAsGiven(cx, cy);
        var shrunk = GapGeometry.MeasureAsGiven(cx * 0.3, cy * 0.3);

        Assert.Equal(0.3 * full.Distribution, shrunk.Distribution, 1e-12);
        Assert.Equal(0.09 * full.ImageSpread!.CovarianceTrace, shrunk.ImageSpread!.CovarianceTrace, 1e-12);
        Assert.Equal(full.Mismatch!.Value, shrunk.Mismatch!.Value, 1e-12);
        Assert.InRange(full.Mismatch.Value, 0.05, 1.0);   // correlated pairs: below independent clouds' 1
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
