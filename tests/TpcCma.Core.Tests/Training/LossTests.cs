using TpcCma.Losses;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Training;

/// <summary>The losses of docs/METHOD.md against PyTorch reference values (golden/loss_golden.json).</summary>
public class LossTests
{
    private const double Tol = 1e-9;   // float64 on both sides

    public static TheoryData<string> Cases => LossGolden.Names();

    [Theory, MemberData(nameof(Cases))]
    public void ClipLoss_MatchesPyTorch_ValueAndGradient(string name)
    {
        var g = LossGolden.Case(name);
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var loss = ClipLoss.Compute(x, y, tensor(g.Scale, ScalarType.Float64));
        loss.backward();
        Assert.Equal(g.Clip, loss.item<double>(), Tol);
        AssertClose(g.ClipGradX, x.grad!);
        AssertClose(g.ClipGradY, y.grad!);
    }

    [Theory, MemberData(nameof(Cases))]
    public void CmaLoss_Parts_MatchPyTorch(string name)
    {
        var g = LossGolden.Case(name);
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var parts = CmaLoss.Compute(x, y, g.LambdaDist, g.LambdaCov);
        Assert.Equal(g.Cent, parts.Centroid.item<double>(), Tol);
        Assert.Equal(g.Dist, parts.Distribution.item<double>(), Tol);
        Assert.Equal(g.Cov, parts.Covariance.item<double>(), Tol);
        Assert.Equal(g.Cma, parts.Total.item<double>(), Tol);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Objective_PullsAndScale_MatchPyTorch(string name)
    {
        var g = LossGolden.Case(name);
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var parts = Objective(g).Compute(x, y, tensor(g.Scale, ScalarType.Float64), 0.5);
        Assert.Equal(g.A, parts.ClipPull.item<double>(), Tol);
        Assert.Equal(g.B, parts.CmaPull.item<double>(), Tol);
        Assert.Equal(g.W, parts.Weight.item<double>(), 1e-7);
        Assert.False(parts.Weight.requires_grad);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Objective_TotalAndGradient_MatchPyTorchAtEveryAlpha(string name)
    {
        var g = LossGolden.Case(name);
        foreach (var expected in g.Objectives)
        {
            using var scope = NewDisposeScope();
            var (x, y) = g.Leaves();
            var parts = Objective(g).Compute(x, y, tensor(g.Scale, ScalarType.Float64), expected.Alpha);
            parts.Total.backward();
            Assert.Equal(expected.Total, parts.Total.item<double>(), Tol);
            AssertClose(expected.GradX, x.grad!);
            AssertClose(expected.GradY, y.grad!);
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void Objective_EqualsClipLoss_AtAlphaZero(string name)
    {
        var g = LossGolden.Case(name);
        using var scope = NewDisposeScope();
        var scale = tensor(g.Scale, ScalarType.Float64);
        var (x1, y1) = g.Leaves();
        var clip = ClipLoss.Compute(x1, y1, scale);
        clip.backward();
        var (x2, y2) = g.Leaves();
        var objective = Objective(g).Compute(x2, y2, scale, 0.0).Total;
        objective.backward();
        Assert.Equal(clip.item<double>(), objective.item<double>(), 1e-12);
        Assert.True(x1.grad!.allclose(x2.grad!, rtol: 0, atol: 1e-12));
        Assert.True(y1.grad!.allclose(y2.grad!, rtol: 0, atol: 1e-12));
    }

    [Theory, MemberData(nameof(Cases))]
    public void Objective_AlignmentPullIsAlphaTimesClipPull_UnlessCapped(string name)
    {
        var g = LossGolden.Case(name);
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var parts = Objective(g).Compute(x, y, tensor(g.Scale, ScalarType.Float64), 0.25);
        var (a, b, w) = (parts.ClipPull.item<double>(), parts.CmaPull.item<double>(), parts.Weight.item<double>());
        foreach (var alpha in new[] { 0.0, 0.05, 0.25, 0.5, 0.9 })
        {
            if (w < g.WMax) Assert.Equal(alpha * a, alpha * w * b, 1e-9);
            else Assert.True(alpha * w * b <= alpha * a + 1e-12, $"capped w must not pull harder than alpha * a (alpha {alpha})");
        }
    }

    [Fact]
    public void Objective_CapsScale_WhenRatioExceedsWMaxOrGapIsClosed()
    {
        Assert.Equal(LossGolden.Case("capped").WMax, LossGolden.Case("capped").W);
        using var scope = NewDisposeScope();
        var g = LossGolden.Case("identical");
        var (x, y) = g.Leaves();
        var parts = Objective(g).Compute(x, y, tensor(g.Scale, ScalarType.Float64), 0.5);
        Assert.Equal(0.0, parts.CmaPull.item<double>());
        Assert.Equal(g.WMax, parts.Weight.item<double>());
        Assert.True(double.IsFinite(parts.Total.item<double>()));
    }

    [Fact]
    public void ClipLoss_ClampsScaleAt100()
    {
        var g = LossGolden.Case("random");
        using var scope = NewDisposeScope();
        var (x, y) = g.Leaves();
        var at100 = ClipLoss.Compute(x, y, tensor(100.0, ScalarType.Float64)).item<double>();
        var at250 = ClipLoss.Compute(x, y, tensor(250.0, ScalarType.Float64)).item<double>();
        Assert.Equal(at100, at250);
    }

    [Fact]
    public void Objective_RejectsBadArguments()
    {
        using var scope = NewDisposeScope();
        var x = randn(4, 8).requires_grad_(true);
        var objective = new TpcCmaObjective(1, 0, 100);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => objective.Compute(x, x, tensor(10f), 1.0));
        Assert.Equal("alpha", ex.ParamName);
        Assert.Throws<ArgumentException>(() => objective.Compute(randn(4, 8), randn(4, 8), tensor(10f), 0.1));
        Assert.Throws<ArgumentException>(() => ClipLoss.Compute(randn(4, 8), randn(3, 8), tensor(10f)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TpcCmaObjective(double.NaN, 0, 100));
    }

    private static TpcCmaObjective Objective(LossGoldenCase g) => new(g.LambdaDist, g.LambdaCov, g.WMax);

    private static void AssertClose(double[][] expected, Tensor actual)
    {
        using var e = LossGolden.ToTensor(expected);
        var maxDiff = (e - actual).abs().max().item<double>();
        Assert.True(maxDiff < Tol, $"max |diff| {maxDiff:E2} >= {Tol:E0}");
    }
}
