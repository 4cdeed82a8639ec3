using System.Text.Json;
using TpcCma.Losses;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Training;

/// <summary>The CLIP-Refine baseline against PyTorch (golden/clip_refine_golden.json, tests/golden/make_clip_refine_golden.py).</summary>
public class ClipRefineTests
{
    private const double Tol = 1e-9;

    public sealed record Case(string Name, double Scale, double TeacherScale, double Alpha, double RafaWeight,
        double[][] X, double[][] Y, double[][] TeacherX, double[][] TeacherY, double[][] References,
        double Loss, double Hycd, double Rafa, double[][] GradX, double[][] GradY)
    {
        public override string ToString() => Name;
    }

    private sealed record File(IReadOnlyList<Case> Cases);

    private static readonly Lazy<IReadOnlyList<Case>> Golden = new(() => JsonSerializer.Deserialize<File>(
        System.IO.File.ReadAllText(Path.Combine(RefData.RepoRoot, "tests", "TpcCma.Core.Tests", "Training", "golden", "clip_refine_golden.json")),
        new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!.Cases);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden.Value) data.Add(c.Name);
        return data;
    }

    private static TeacherView Teacher(Case g) =>
        new(LossGolden.ToTensor(g.TeacherX), LossGolden.ToTensor(g.TeacherY), tensor(g.TeacherScale, ScalarType.Float64));

    [Theory, MemberData(nameof(Names))]
    public void ClipRefineLoss_MatchesPyTorch_ValueAndGradient(string name)
    {
        var g = Golden.Value.Single(c => c.Name == name);
        using var scope = NewDisposeScope();
        var x = LossGolden.ToTensor(g.X).requires_grad_(true);
        var y = LossGolden.ToTensor(g.Y).requires_grad_(true);
        var (total, hycd, rafa) = ClipRefineLoss.Compute(x, y, tensor(g.Scale, ScalarType.Float64), Teacher(g),
            LossGolden.ToTensor(g.References), g.Alpha, g.RafaWeight);
        total.backward();
        Assert.Equal(g.Loss, total.item<double>(), Tol);
        Assert.Equal(g.Hycd, hycd.item<double>(), Tol);
        Assert.Equal(g.Rafa, rafa.item<double>(), Tol);
        AssertClose(g.GradX, x.grad!);
        AssertClose(g.GradY, y.grad!);
    }

    [Fact]
    public void Hycd_WithOneHotTargetsOnly_IsClipsLoss()
    {
        var g = Golden.Value[1];
        using var scope = NewDisposeScope();
        var (x, y, scale) = (LossGolden.ToTensor(g.X), LossGolden.ToTensor(g.Y), tensor(g.Scale, ScalarType.Float64));
        Assert.Equal(ClipLoss.Compute(x, y, scale).item<double>(), ClipRefineLoss.Hycd(x, y, scale, Teacher(g), 1.0).item<double>(), 1e-12);
        Assert.NotEqual(ClipLoss.Compute(x, y, scale).item<double>(), ClipRefineLoss.Hycd(x, y, scale, Teacher(g), 0.5).item<double>(), 1e-6);
    }

    [Fact]
    public void Objective_ClipRefine_DrawsReferencesFromTheGlobalGenerator_AndNeedsATeacher()
    {
        var g = Golden.Value[0];
        using var scope = NewDisposeScope();
        var scale = tensor(g.Scale, ScalarType.Float64);
        var objective = new TpcCmaObjective(new TrainingSpec { Method = AlignMethod.ClipRefine, ClipRefineAlpha = 0.25, ClipRefineRafaWeight = 0.7 }.Objective);
        var (x, y) = (LossGolden.ToTensor(g.X), LossGolden.ToTensor(g.Y));
        manual_seed(42);
        var references = ClipRefineLoss.DrawReferences(x);
        manual_seed(42);
        var parts = objective.Compute(x.clone().requires_grad_(true), y.clone().requires_grad_(true), scale, alpha: 0.3, Teacher(g));
        var expected = ClipRefineLoss.Compute(x, y, scale, Teacher(g), references, 0.25, 0.7).Total.item<double>();
        Assert.Equal(expected, parts.Total.item<double>(), 1e-12);   // the curriculum's alpha plays no part
        Assert.Equal(0.7, parts.Weight.item<double>());
        Assert.Equal(ClipLoss.Compute(x, y, scale).item<double>(), parts.Clip.item<double>(), 1e-12);
        Assert.Null(parts.Geometry);     // not optimised by CLIP-Refine, so not computed
        Assert.Null(parts.Uniformity);
        Assert.Throws<ArgumentNullException>(() => objective.Compute(x.clone().requires_grad_(true), y.clone().requires_grad_(true), scale, 0.3));
        Assert.Throws<ArgumentException>(() => objective.Compute(x.clone().requires_grad_(true), y.clone().requires_grad_(true), scale, 0.3,
            TeacherView.CaptionsOnly(LossGolden.ToTensor(g.TeacherY))));   // HyCD needs the teacher's images and temperature
    }

    [Fact]
    public void Spec_ReadsClipRefine_AndNamesBadFields()
    {
        var spec = TrainingSpec.FromJson("""{"method": "clip_refine", "clip_refine_alpha": 0.3, "clip_refine_rafa_weight": 2}""");
        Assert.Equal(AlignMethod.ClipRefine, spec.Method);
        Assert.Equal(0.3, spec.Objective.ClipRefineAlpha);
        Assert.Equal(2, spec.Objective.ClipRefineRafaWeight);
        Assert.Contains("\"method\": \"clip_refine\"", spec.ToJson());
        Assert.Empty(spec.Validate());
        Assert.Equal(["method"], (spec with { Kind = JobKind.Pretrain }).Validate().Keys);
        Assert.Equal(["clip_refine_alpha"], (spec with { ClipRefineAlpha = 1.5 }).Validate().Keys);
        Assert.Equal(["clip_refine_rafa_weight"], (spec with { ClipRefineRafaWeight = -1 }).Validate().Keys);
    }

    [Fact]
    public void Run_ClipRefine_TrainsAndResumesBitForBit()
    {
        // Cancelled after step 6, then resumed from the same starting model (the teacher): the references drawn
        // afterwards come from the restored generator state, the trained weights from the checkpoint.
        var straight = ResumeCheck.AssertResumedRunMatchesStraightRun(TrainerFixtures.Spec(12) with { Method = AlignMethod.ClipRefine }, cancelAfter: 6, resumeModelSeed: 5);
        Assert.All(straight.Metrics.Values, m => Assert.True(double.IsFinite(m["loss"]) && m["cma"] > 0));
        Assert.NotEqual(straight.Metrics[1]["loss"], straight.Metrics[1]["clip"]);   // HyCD + RaFA, not CLIP's loss
    }

    private static void AssertClose(double[][] expected, Tensor actual)
    {
        using var e = LossGolden.ToTensor(expected);
        var maxDiff = (e - actual).abs().max().item<double>();
        Assert.True(maxDiff < Tol, $"max |diff| {maxDiff:E2} >= {Tol:E0}");
    }
}
