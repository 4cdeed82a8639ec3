using System.Text.Json;
using TpcCma.Losses;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Training;

/// <summary>The AlignCLIP baseline against PyTorch (golden/align_clip_golden.json, tests/golden/make_align_clip_golden.py).</summary>
public class AlignClipTests
{
    private const double Tol = 1e-9;

    public sealed record Case(string Name, double Scale, double Weight, double[][] X, double[][] Y, double[][] Semantic,
        double[][] Distances, double Clip, double Separation, double Loss, double[][] GradX, double[][] GradY)
    {
        public override string ToString() => Name;
    }

    private sealed record File(IReadOnlyList<Case> Cases);

    private static readonly Lazy<IReadOnlyList<Case>> Golden = new(() => JsonSerializer.Deserialize<File>(
        System.IO.File.ReadAllText(Path.Combine(RefData.RepoRoot, "tests", "TpcCma.Core.Tests", "Training", "golden", "align_clip_golden.json")),
        new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!.Cases);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden.Value) data.Add(c.Name);
        return data;
    }

    // The frozen model's view as the trainer hands it to align_clip: the captions' features alone.
    private static TeacherView Teacher(Case g) => TeacherView.CaptionsOnly(LossGolden.ToTensor(g.Semantic));

    [Theory, MemberData(nameof(Names))]
    public void Separation_MatchesPyTorch_ValueGradientAndDistances(string name)
    {
        var g = Golden.Value.Single(c => c.Name == name);
        using var scope = NewDisposeScope();
        var x = LossGolden.ToTensor(g.X).requires_grad_(true);
        var y = LossGolden.ToTensor(g.Y).requires_grad_(true);
        var scale = tensor(g.Scale, ScalarType.Float64);
        var distances = AlignClipLoss.SemanticDistances(LossGolden.ToTensor(g.Semantic));
        var separation = AlignClipLoss.Separation(x, y, scale, distances);
        var loss = ClipLoss.Compute(x, y, scale) + g.Weight * separation;
        loss.backward();
        Assert.Equal(g.Separation, separation.item<double>(), Tol);
        Assert.Equal(g.Loss, loss.item<double>(), Tol);
        AssertClose(g.Distances, distances);
        AssertClose(g.GradX, x.grad!);
        AssertClose(g.GradY, y.grad!);
    }

    [Theory, MemberData(nameof(Names))]
    public void Objective_AlignClip_IsClipPlusWeightedSeparation_WithPullsMeasured(string name)
    {
        var g = Golden.Value.Single(c => c.Name == name);
        using var scope = NewDisposeScope();
        var x = LossGolden.ToTensor(g.X).requires_grad_(true);
        var y = LossGolden.ToTensor(g.Y).requires_grad_(true);
        var objective = new TpcCmaObjective(new TrainingSpec { Method = AlignMethod.AlignClip, AlignClipWeight = g.Weight }.Objective);
        var parts = objective.Compute(x, y, tensor(g.Scale, ScalarType.Float64), alpha: 0.3, Teacher(g));
        parts.Total.backward();
        Assert.Equal(g.Loss, parts.Total.item<double>(), Tol);   // the curriculum's alpha plays no part
        Assert.Equal(g.Clip, parts.Clip.item<double>(), Tol);
        Assert.Equal(g.Separation, parts.Cma.item<double>(), Tol);
        Assert.Equal(g.Weight, parts.Weight.item<double>());
        Assert.True(parts.ClipPull.item<double>() > 0 && parts.CmaPull.item<double>() > 0);
        Assert.Null(parts.Geometry);
        Assert.Null(parts.Uniformity);
        AssertClose(g.GradX, x.grad!);
        AssertClose(g.GradY, y.grad!);
    }

    [Fact]
    public void Separation_LeavesSynonymousCaptionsUnseparated_AndNeedsATeacher()
    {
        var g = Golden.Value.Single(c => c.Name == "gap_synonyms");
        using var scope = NewDisposeScope();
        var distances = AlignClipLoss.SemanticDistances(LossGolden.ToTensor(g.Semantic));
        Assert.Equal(0.0, distances[1, 3].item<double>(), 1e-12);                      // captions 1 and 3 mean the same
        Assert.True(distances[0, 1].item<double>() > 0.1);
        Assert.True(distances.diagonal().eq(0).all().item<bool>());
        var objective = new TpcCmaObjective(new TrainingSpec { Method = AlignMethod.AlignClip }.Objective);
        var x = LossGolden.ToTensor(g.X).requires_grad_(true);
        var y = LossGolden.ToTensor(g.Y).requires_grad_(true);
        Assert.Throws<ArgumentNullException>(() => objective.Compute(x, y, tensor(g.Scale, ScalarType.Float64), 0.3));
        Assert.Throws<ArgumentException>(() => AlignClipLoss.Separation(x, y, tensor(g.Scale, ScalarType.Float64), distances[..3, ..3]));
    }

    [Fact]
    public void Spec_ReadsAlignClip_AndNamesBadFields()
    {
        var spec = TrainingSpec.FromJson("""{"method": "align_clip", "align_clip_weight": 0.25}""");
        Assert.Equal(AlignMethod.AlignClip, spec.Method);
        Assert.Equal(0.25, spec.Objective.AlignClipWeight);
        Assert.True(spec.Objective.NeedsTeacher);
        Assert.Contains("\"method\": \"align_clip\"", spec.ToJson());
        Assert.Equal(0.5, new TrainingSpec().AlignClipWeight);
        Assert.Empty(spec.Validate());
        var pretrain = (spec with { Kind = JobKind.Pretrain }).Validate();
        Assert.Equal(["method"], pretrain.Keys);
        Assert.Contains("align_clip fine-tunes", pretrain["method"][0]);
        Assert.Equal(["align_clip_weight"], (spec with { AlignClipWeight = -1 }).Validate().Keys);
        Assert.Equal(["align_clip_weight"], (spec with { AlignClipWeight = double.NaN }).Validate().Keys);
    }

    [Fact]
    public void Run_AlignClip_TrainsAndResumesBitForBit()
    {
        // Cancelled after step 6, then resumed from the same starting model, whose caption features give the distances.
        var straight = ResumeCheck.AssertResumedRunMatchesStraightRun(TrainerFixtures.Spec(12) with { Method = AlignMethod.AlignClip }, cancelAfter: 6, resumeModelSeed: 5);
        Assert.All(straight.Metrics.Values, m => Assert.True(double.IsFinite(m["loss"]) && m["cma"] > 0));
        Assert.All(straight.Metrics.Values, m => Assert.Equal(m["clip"] + 0.5 * m["cma"], m["loss"], 1e-5));   // L_clip + 0.5 L_IMSep from the first step
    }

    private static void AssertClose(double[][] expected, Tensor actual)
    {
        using var e = LossGolden.ToTensor(expected);
        var maxDiff = (e - actual).abs().max().item<double>();
        Assert.True(maxDiff < Tol, $"max |diff| {maxDiff:E2} >= {Tol:E0}");
    }
}
