using TpcCma.Evaluation;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Evaluation;

public class EvaluationReportTests
{
    private static readonly string[] ClassNames = ["cat", "dog", "car", "tree"];

    /// <summary>Four well-separated classes; text = class direction + noise; image = the same + a modality offset.</summary>
    private static (Tensor Image, Tensor Text, int[] Labels, Tensor Directions) Split(double offset, int perClass = 40, int dim = 16)
    {
        using var generator = new Generator(21);
        var directions = 3 * eye(dim)[..ClassNames.Length];
        var labels = Enumerable.Range(0, ClassNames.Length * perClass).Select(i => i % ClassNames.Length).ToArray();
        var concept = directions.index_select(0, tensor(labels.Select(l => (long)l).ToArray()));
        var shift = zeros(dim);
        shift[dim - 1] = offset;
        var text = concept + 0.3f * randn(concept.shape, generator: generator);
        var image = concept + 0.3f * randn(concept.shape, generator: generator) + shift;
        return (image, text, labels, directions);
    }

    [Fact]
    public void Evaluate_FillsEveryPart_AndRoundTripsThroughJson()
    {
        using var scope = NewDisposeScope();
        var (image, text, labels, directions) = Split(offset: 2.0);
        // Encodes a prompt as the direction of the class name it contains.
        Tensor Encode(IReadOnlyList<string> prompts) =>
            stack(prompts.Select(p => directions[Array.FindIndex(ClassNames, c => p.Contains(c, StringComparison.Ordinal))]).ToArray());

        var report = ModelEvaluator.Evaluate(new EvaluationSplit("base", "test", image, text, labels, ClassNames, Encode));

        Assert.Equal(160, report.Pairs);
        Assert.Equal(1.0, report.ZeroShot!.Top1);
        Assert.True(report.Gaps.Centroid > 0.3);
        // Centering alone, before renormalising: no centroid gap, the distribution gap untouched.
        Assert.Equal(0, report.MeanCenteredGaps.Centroid, 1e-12);
        Assert.Equal(report.Gaps.Distribution, report.MeanCenteredGaps.Distribution, 1e-12);
        Assert.Equal(100, report.MeanCenteringReduction.Centroid, 1e-9);
        // Renormalising moves the means a little: that baseline's centroid gap is small, not 0.
        Assert.True(report.MeanCenteredRenormalisedGaps!.Centroid < 0.05 * report.Gaps.Centroid, $"{report.MeanCenteredRenormalisedGaps.Centroid}");
        Assert.NotNull(report.Gaps.ImageSpread);
        Assert.Null(report.RenormalisedGaps);
        Assert.True(report.Separability > 0.95, $"{report.Separability}");
        Assert.NotNull(report.JointClustering);
        Assert.Null(report.Captioning);

        var json = report.ToJson();
        Assert.Contains("\"mean_centered_gaps\"", json);
        Assert.Contains("\"cos_pair\"", json);
        var back = EvaluationReport.FromJson(json);
        Assert.Equal(report.Gaps with { ImageSpread = null, TextSpread = null }, back.Gaps with { ImageSpread = null, TextSpread = null });
        Assert.Equal(report.Gaps.ImageSpread, back.Gaps.ImageSpread);
        Assert.Equal(report.MeanCenteredRenormalisedGaps.Distribution, back.MeanCenteredRenormalisedGaps!.Distribution);
        Assert.Equal(report.ZeroShot, back.ZeroShot);
        Assert.Equal(report.Retrieval, back.Retrieval);
        Assert.Equal(report.JointClustering, back.JointClustering);
    }

    [Fact]
    public void Evaluate_MeasuresTheCenteredBaselineBeforeRenormalising_AndItsTasksAfter()
    {
        using var scope = NewDisposeScope();
        var (image, text, labels, _) = Split(offset: 2.0);
        var baseReport = ModelEvaluator.Evaluate(new EvaluationSplit("base", "test", image, text, labels, ClassNames));
        var (gapImage, gapText) = GapGeometry.Centered(image, text);
        var (taskImage, taskText) = GapGeometry.MeanCentered(image, text);

        var centered = ModelEvaluator.Evaluate(new EvaluationSplit("base_centered", "test", taskImage, taskText, labels, ClassNames,
            GapImage: gapImage, GapText: gapText));

        Assert.Equal(0, centered.Gaps.Centroid, 1e-12);
        Assert.Equal(baseReport.Gaps.Distribution, centered.Gaps.Distribution, 1e-12);
        Assert.Equal(centered.Gaps.Raw * centered.Gaps.Raw, centered.Gaps.Distribution * centered.Gaps.Distribution, 1e-12);
        Assert.NotNull(centered.RenormalisedGaps);
        Assert.True(centered.RenormalisedGaps.Distribution > centered.Gaps.Distribution, $"{centered.RenormalisedGaps.Distribution}");
        // The tasks ran on the renormalised vectors: clustering sees unit rows with the offset removed.
        Assert.Equal(JointClustering.Evaluate(taskImage, taskText, labels, ClassNames.Length).Ari, centered.JointClustering!.Ari, 1e-12);
        Assert.Contains("\"renormalised_gaps\"", centered.ToJson());
    }

    [Fact]
    public void JointClustering_SplitsByModality_WhenTheGapIsLarge()
    {
        using var scope = NewDisposeScope();
        var (alignedImage, alignedText, labels, _) = Split(offset: 0.0);
        var (farImage, farText, _, _) = Split(offset: 12.0);

        var aligned = JointClustering.Evaluate(alignedImage, alignedText, labels, ClassNames.Length);
        var apart = JointClustering.Evaluate(farImage, farText, labels, ClassNames.Length);

        Assert.Equal(1.0, aligned.Ari, 1e-12);
        Assert.Equal(320, aligned.Points);
        Assert.True(apart.Ari < 0.6, $"ARI {apart.Ari} with modalities far apart");
    }

    [Fact]
    public void Separability_IsNearChance_ForIdenticallyDistributedModalities()
    {
        using var scope = NewDisposeScope();
        var (image, text, _, _) = Split(offset: 0.0, perClass: 150);

        var accuracy = LinearProbe.Separability(image, text);

        Assert.InRange(accuracy, 0.35, 0.65);
    }

    [Fact]
    public void Fit_GivesRSquaredOne_ForExactlyLinearMetric_AndLowerForNoisyOne()
    {
        var points = new[] { 0.1, 0.3, 0.5, 0.7, 0.9 }.Select((gap, i) => new SweepPoint($"m{i}",
            new Dictionary<string, double> { ["distribution"] = gap, ["raw"] = i < 2 ? 0 : 1 },
            new Dictionary<string, double> { ["ari"] = 0.8 - 0.5 * gap })).ToArray();

        var fits = TradeOffAnalysis.Fit(points);

        var distribution = fits.Single(f => f.Gap == "distribution");
        Assert.Equal(1.0, distribution.RSquared, 1e-12);
        Assert.Equal(-0.5, distribution.Slope, 1e-12);
        Assert.Equal(0.8, distribution.Intercept, 1e-12);
        // raw = (0, 0, 1, 1, 1) against gap (.1 ... .9): S_xg = 0.6, S_xx = 1.2, S_gg = 0.4, so R^2 = 0.36 / 0.48.
        Assert.Equal(0.75, fits.Single(f => f.Gap == "raw").RSquared, 1e-12);
    }

    [Fact]
    public void Fit_Throws_WithFewerThanThreeModels()
    {
        var point = new SweepPoint("a", new Dictionary<string, double> { ["raw"] = 1 }, new Dictionary<string, double> { ["ari"] = 1 });
        Assert.Throws<ArgumentException>(() => TradeOffAnalysis.Fit([point, point]));
    }
}
