using System.Globalization;
using TpcCma.Losses;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Training;

/// <summary>The CMA variants, hard negatives and the uniformity term against PyTorch (golden/cma_variants_golden.json).</summary>
public class CmaVariantsTests
{
    private const double Tol = 1e-9;   // float64 on both sides

    public static TheoryData<string> Cases => CmaVariantsGolden.Names();

    [Theory, MemberData(nameof(Cases))]
    public void ContrastiveTerm_MatchesPyTorch_ValueAndGradient(string name)
    {
        var g = CmaVariantsGolden.Case(name);
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var scale = tensor(g.Scale, ScalarType.Float64);
        var loss = g.Negatives == "reweighted" ? HardNegativeClipLoss.Compute(x, y, scale, g.NegativesBeta) : ClipLoss.Compute(x, y, scale);
        loss.backward();
        Assert.Equal(g.Clip, loss.item<double>(), Tol);
        AssertClose(g.ClipGradX, x.grad!);
        AssertClose(g.ClipGradY, y.grad!);
    }

    [Theory, MemberData(nameof(Cases))]
    public void GeometryLoss_MatchesPyTorch_ValueAndGradient(string name)
    {
        var g = CmaVariantsGolden.Case(name);
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var loss = GeometryLoss.Compute(x, y);
        loss.backward();
        Assert.Equal(g.Geom, loss.item<double>(), Tol);
        AssertClose(g.GeomGradX, x.grad!);
        AssertClose(g.GeomGradY, y.grad!);
    }

    [Theory, MemberData(nameof(Cases))]
    public void UniformityLoss_MatchesPyTorch_ValueAndGradient(string name)
    {
        var g = CmaVariantsGolden.Case(name);
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var loss = UniformityLoss.Compute(x, y);
        loss.backward();
        Assert.Equal(g.Unif, loss.item<double>(), Tol);
        AssertClose(g.UnifGradX, x.grad!);
        AssertClose(g.UnifGradY, y.grad!);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Objective_PartsPullsAndScale_MatchPyTorch(string name)
    {
        var g = CmaVariantsGolden.Case(name);
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var parts = new TpcCmaObjective(g.Options()).Compute(x, y, tensor(g.Scale, ScalarType.Float64), 0.5);
        Assert.Equal(g.Clip, parts.Clip.item<double>(), Tol);
        Assert.Equal(g.CmaTotal, parts.Cma.item<double>(), Tol);
        // A term is computed only when the objective uses it; then it matches PyTorch.
        var options = g.Options();
        Assert.Equal(options.UsesGeometry, parts.Geometry is not null);
        Assert.Equal(options.LambdaUnif > 0, parts.Uniformity is not null);
        if (parts.Geometry is { } geometry) Assert.Equal(g.Geom, geometry.item<double>(), Tol);
        if (parts.Uniformity is { } uniformity) Assert.Equal(g.Unif, uniformity.item<double>(), Tol);
        Assert.Equal(g.Cent, parts.Centroid.item<double>(), Tol);
        Assert.Equal(g.Dist, parts.Distribution.item<double>(), Tol);
        Assert.Equal(g.Cov, parts.Covariance.item<double>(), Tol);
        Assert.Equal(g.A, parts.ClipPull.item<double>(), Tol);
        Assert.Equal(g.B, parts.CmaPull.item<double>(), Tol);
        Assert.Equal(g.W, parts.Weight.item<double>(), 1e-7);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Objective_TotalAndGradient_MatchPyTorchAtEveryAlpha(string name)
    {
        var g = CmaVariantsGolden.Case(name);
        foreach (var expected in g.Objectives)
        {
            using var scope = NewDisposeScope();
            var (x, y) = g.Leaves();
            var parts = new TpcCmaObjective(g.Options()).Compute(x, y, tensor(g.Scale, ScalarType.Float64), expected.Alpha);
            parts.Total.backward();
            Assert.Equal(expected.Total, parts.Total.item<double>(), Tol);
            AssertClose(expected.GradX, x.grad!);
            AssertClose(expected.GradY, y.grad!);
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void Objective_AlignmentPullIsAlphaTimesClipPull_UnlessCapped(string name)
    {
        var g = CmaVariantsGolden.Case(name);
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var parts = new TpcCmaObjective(g.Options()).Compute(x, y, tensor(g.Scale, ScalarType.Float64), 0.25);
        var (a, b, w) = (parts.ClipPull.item<double>(), parts.CmaPull.item<double>(), parts.Weight.item<double>());
        if (w < g.WMax) Assert.Equal(0.25 * a, 0.25 * w * b, 1e-9);
        else Assert.True(0.25 * w * b < 0.25 * a, "a capped w must pull less than alpha * a");
    }

    [Fact]
    public void Golden_CoversEveryVariantAndBothNegativeWeightings_AndTheCap()
    {
        var cases = CmaVariantsGolden.Cases;
        Assert.Equal(["geometry", "pairwise", "pairwise+geometry"], cases.Select(c => c.Cma).Distinct().Order().ToArray());
        Assert.Equal(["reweighted", "uniform"], cases.Select(c => c.Negatives).Distinct().Order().ToArray());
        Assert.Contains(cases, c => c.W == c.WMax);
        Assert.Contains(cases, c => c.LambdaUnif > 0);
    }

    [Fact]
    public void HardNegatives_AtBetaZero_AreClipLossExactly()
    {
        var g = CmaVariantsGolden.Case("reweighted_beta0");
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var scale = tensor(g.Scale, ScalarType.Float64);
        Assert.Equal(ClipLoss.Compute(x, y, scale).item<double>(), HardNegativeClipLoss.Compute(x, y, scale, 0).item<double>(), 1e-12);
        Assert.True(HardNegativeClipLoss.Compute(x, y, scale, 2).item<double>() > ClipLoss.Compute(x, y, scale).item<double>(),
            "up-weighting the hardest negatives raises the loss");
    }

    [Fact]
    public void DefaultOptions_GiveTheOriginalObjective()
    {
        var g = LossGolden.Case("random");
        using var scope = NewDisposeScope();
        var scale = tensor(g.Scale, ScalarType.Float64);
        var (x1, y1) = g.Leaves();
        var (x2, y2) = g.Leaves();
        var old = new TpcCmaObjective(g.LambdaDist, g.LambdaCov, g.WMax).Compute(x1, y1, scale, 0.5).Total;
        var spec = new TpcCma.Training.TrainingSpec { LambdaDist = g.LambdaDist, LambdaCov = g.LambdaCov, WMax = g.WMax };
        var viaSpec = new TpcCmaObjective(spec.Objective).Compute(x2, y2, scale, 0.5).Total;
        Assert.Equal(old.item<double>(), viaSpec.item<double>(), 1e-13);
        Assert.Equal(g.Objectives.Single(o => o.Alpha == 0.5).Total, viaSpec.item<double>(), Tol);
    }

    [Fact]
    public void Uniformity_RisesTowardZero_AsACloudCollapses()
    {
        using var scope = NewDisposeScope();
        var spread = nn.functional.normalize(randn(16, 8, generator: new Generator(1).manual_seed(1), dtype: ScalarType.Float64), dim: 1);
        var collapsed = nn.functional.normalize(spread * 0.01 + ones(16, 8, dtype: ScalarType.Float64), dim: 1);
        var uSpread = UniformityLoss.Compute(spread, spread).item<double>();
        var uCollapsed = UniformityLoss.Compute(collapsed, collapsed).item<double>();
        Assert.True(uSpread < uCollapsed && uCollapsed <= 0, $"spread {uSpread.ToString(CultureInfo.InvariantCulture)}, collapsed {uCollapsed.ToString(CultureInfo.InvariantCulture)}");
    }

    private static void AssertClose(double[][] expected, Tensor actual)
    {
        using var e = LossGolden.ToTensor(expected);
        var maxDiff = (e - actual).abs().max().item<double>();
        Assert.True(maxDiff < Tol, $"max |diff| {maxDiff:E2} >= {Tol:E0}");
    }
}
