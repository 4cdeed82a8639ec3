using System.Text.Json;
using TpcCma.Losses;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Training;

/// <summary>The m^2-Mix baseline against PyTorch (golden/m2mix_golden.json, tests/golden/make_m2mix_golden.py).</summary>
public class M2MixTests
{
    private const double Tol = 1e-9;

    public sealed record Case(string Name, double Scale, double Lambda, double[][] X, double[][] Y, double Loss,
        double[][] GradX, double[][] GradY, double[][] Mixed)
    {
        public override string ToString() => Name;
    }

    private sealed record File(IReadOnlyList<Case> Cases);

    private static readonly Lazy<IReadOnlyList<Case>> Golden = new(() => JsonSerializer.Deserialize<File>(
        System.IO.File.ReadAllText(Path.Combine(RefData.RepoRoot, "tests", "TpcCma.Core.Tests", "Training", "golden", "m2mix_golden.json")),
        new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!.Cases);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden.Value) data.Add(c.Name);
        return data;
    }

    [Theory, MemberData(nameof(Names))]
    public void M2MixLoss_MatchesPyTorch_ValueGradientAndMixes(string name)
    {
        var g = Golden.Value.Single(c => c.Name == name);
        using var scope = NewDisposeScope();
        var x = LossGolden.ToTensor(g.X).requires_grad_(true);
        var y = LossGolden.ToTensor(g.Y).requires_grad_(true);
        var loss = M2MixLoss.Compute(x, y, tensor(g.Scale, ScalarType.Float64), g.Lambda);
        loss.backward();
        Assert.Equal(g.Loss, loss.item<double>(), Tol);
        AssertClose(g.GradX, x.grad!);
        AssertClose(g.GradY, y.grad!);
        AssertClose(g.Mixed, M2MixLoss.Slerp(x.detach(), y.detach(), g.Lambda));
    }

    [Fact]
    public void Slerp_StaysOnTheSphere_AndMixesCoincidentPairsIntoThemselves()
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.normalize(randn(5, 8, dtype: ScalarType.Float64, generator: new Generator(1).manual_seed(2)), dim: 1);
        var y = nn.functional.normalize(randn(5, 8, dtype: ScalarType.Float64, generator: new Generator(1).manual_seed(3)), dim: 1);
        Assert.True(M2MixLoss.Slerp(x, y, 0.3).norm(1).allclose(ones(5, dtype: ScalarType.Float64), rtol: 0, atol: 1e-9));
        Assert.True(M2MixLoss.Slerp(x, y, 1.0).allclose(x, rtol: 0, atol: 1e-9));
        var self = M2MixLoss.Slerp(x, x, 0.4);
        Assert.False(self.isnan().any().item<bool>());
        Assert.True(self.allclose(x, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Objective_M2Mix_IsClipPlusWeightedMix_WithLambdaFromTheGlobalGenerator()
    {
        var g = Golden.Value[0];
        using var scope = NewDisposeScope();
        var scale = tensor(g.Scale, ScalarType.Float64);
        var objective = new TpcCmaObjective(new TrainingSpec { Method = AlignMethod.M2mix, M2mixWeight = 0.7 }.Objective);
        manual_seed(42);
        var lambda = M2MixLoss.DrawLambda();
        manual_seed(42);
        var parts = objective.Compute(LossGolden.ToTensor(g.X).requires_grad_(true), LossGolden.ToTensor(g.Y).requires_grad_(true), scale, alpha: 0.3);
        var x = LossGolden.ToTensor(g.X);
        var y = LossGolden.ToTensor(g.Y);
        var expected = ClipLoss.Compute(x, y, scale).item<double>() + 0.7 * M2MixLoss.Compute(x, y, scale, lambda).item<double>();
        Assert.Equal(expected, parts.Total.item<double>(), 1e-12);   // alpha plays no part
        Assert.Equal(0.7, parts.Weight.item<double>());
        Assert.InRange(lambda, 0, 1);
        Assert.Null(parts.Geometry);     // not optimised by m^2-Mix, so not computed
        Assert.Null(parts.Uniformity);
    }

    [Fact]
    public void Spec_ReadsMethod_AndRefusesM2MixOutsideAlign()
    {
        var spec = TrainingSpec.FromJson("""{"method": "m2mix", "m2mix_weight": 0.5}""");
        Assert.Equal(AlignMethod.M2mix, spec.Method);
        Assert.Equal(0.5, spec.Objective.M2MixWeight);
        Assert.Contains("\"method\": \"m2mix\"", spec.ToJson());
        Assert.Contains("\"method\": \"tpc_cma\"", new TrainingSpec().ToJson());
        Assert.Equal(["method"], (spec with { Kind = JobKind.Pretrain }).Validate().Keys);
        Assert.Equal(["m2mix_weight"], (spec with { M2mixWeight = -1 }).Validate().Keys);
    }

    [Fact]
    public void Run_M2Mix_TrainsAndResumesBitForBit()
    {
        // Cancelled after step 6, then resumed: the draws afterwards come from the restored generator state.
        var straight = ResumeCheck.AssertResumedRunMatchesStraightRun(TrainerFixtures.Spec(12) with { Method = AlignMethod.M2mix }, cancelAfter: 6, resumeModelSeed: 77);
        Assert.All(straight.Metrics.Values, m => Assert.True(double.IsFinite(m["loss"]) && m["cma"] > 0));
        Assert.NotEqual(straight.Metrics[1]["loss"], straight.Metrics[1]["clip"]);   // the mix term is on from the first step
    }

    private static void AssertClose(double[][] expected, Tensor actual)
    {
        using var e = LossGolden.ToTensor(expected);
        var maxDiff = (e - actual).abs().max().item<double>();
        Assert.True(maxDiff < Tol, $"max |diff| {maxDiff:E2} >= {Tol:E0}");
    }
}
