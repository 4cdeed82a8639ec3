using System.Diagnostics;
using TpcCma.Evaluation.Captioning;
using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>
/// One split's embeddings and what the task metrics need. Image and Text are [N, D] matched pairs (the first
/// caption of each image). Optional parts switch metrics on: Labels + ClassNames + EncodeText for zero-shot
/// accuracy (and Labels + ClassNames for joint clustering), References + a captioning training set for CIDEr-D.
/// GapImage and GapText, when given, are the [N, D] vectors the gap geometry is measured on in place of Image
/// and Text: the mean-centered baseline before renormalising, while its task metrics use the renormalised Image
/// and Text (whose cosine-space gaps are then reported as <see cref="EvaluationReport.RenormalisedGaps"/>).
/// </summary>
public sealed record EvaluationSplit(
    string Model,
    string Split,
    Tensor Image,
    Tensor Text,
    IReadOnlyList<int>? Labels = null,
    IReadOnlyList<string>? ClassNames = null,
    Func<IReadOnlyList<string>, Tensor>? EncodeText = null,
    IReadOnlyList<string>? Templates = null,
    IReadOnlyList<IReadOnlyList<string>>? References = null,
    CaptioningTrainingSet? CaptioningTraining = null,
    Tensor? GapImage = null,
    Tensor? GapText = null);

/// <summary>Training captions and their text embeddings, for the zero-shot caption decoder.</summary>
public sealed record CaptioningTrainingSet(Tensor Text, IReadOnlyList<string> Captions);

/// <summary>Which optional parts run, and their settings.</summary>
public sealed record EvaluationOptions(
    bool Separability = true, LinearProbeOptions? Probe = null, KMeansOptions? KMeans = null, CaptioningOptions? Captioning = null,
    bool EmbeddingMap = true);

/// <summary>Runs the evaluation protocol of METHOD.md on one split and collects an <see cref="EvaluationReport"/>.</summary>
public static class ModelEvaluator
{
    public static EvaluationReport Evaluate(EvaluationSplit split, EvaluationOptions? options = null)
    {
        options ??= new EvaluationOptions();
        GapGeometry.CheckPairs(split.Image, split.Text, minimum: 2);
        var clock = Stopwatch.StartNew();
        if ((split.GapImage is null) != (split.GapText is null)) throw new ArgumentException("give both GapImage and GapText, or neither");
        if (split.GapImage is not null && (!split.GapImage.shape.SequenceEqual(split.Image.shape) || !split.GapText!.shape.SequenceEqual(split.Text.shape)))
            throw new ArgumentException($"GapImage and GapText must have the shape of Image and Text, got {GapGeometry.Shape(split.GapImage)} for {GapGeometry.Shape(split.Image)}");
        var gaps = split.GapImage is null ? GapGeometry.Measure(split.Image, split.Text) : GapGeometry.MeasureAsGiven(split.GapImage, split.GapText!);
        var renormalisedGaps = split.GapImage is null ? null : GapGeometry.Measure(split.Image, split.Text);
        GapMeasures centeredGaps, centeredRenormalisedGaps;
        {
            var (cx, cy) = GapGeometry.Centered(split.Image, split.Text);
            using (cx) using (cy) centeredGaps = GapGeometry.MeasureAsGiven(cx, cy);
            var (rx, ry) = GapGeometry.MeanCentered(split.Image, split.Text);
            using (rx) using (ry) centeredRenormalisedGaps = GapGeometry.Measure(rx, ry);
        }
        var gapSeconds = Lap(clock);

        double? separability = options.Separability ? LinearProbe.Separability(split.Image, split.Text, options.Probe) : null;
        double? separabilitySeconds = options.Separability ? Lap(clock) : null;

        ZeroShotResult? zeroShot = null;
        double? zeroShotSeconds = null;
        if (split.Labels is not null && split.ClassNames is not null && split.EncodeText is not null)
        {
            zeroShot = ZeroShotClassifier.Evaluate(split.Image, split.Labels, split.ClassNames,
                split.Templates ?? ZeroShotClassifier.DefaultTemplates, split.EncodeText);
            zeroShotSeconds = Lap(clock);
        }

        var retrieval = Retrieval.Evaluate(split.Image, split.Text);
        var retrievalSeconds = Lap(clock);

        JointClusteringResult? clustering = null;
        double? clusteringSeconds = null;
        if (split.Labels is not null && split.ClassNames is not null && split.Labels.All(l => l >= 0))
        {
            // k = the number of classes present: a held-out split may not hold every class of the dataset.
            clustering = JointClustering.Evaluate(split.Image, split.Text, split.Labels, split.Labels.Distinct().Count(), options.KMeans);
            clusteringSeconds = Lap(clock);
        }

        CaptioningResult? captioning = null;
        double? captioningSeconds = null;
        if (split.References is not null && split.CaptioningTraining is not null)
        {
            captioning = ZeroShotCaptioner.Evaluate(split.CaptioningTraining.Text, split.CaptioningTraining.Captions,
                split.Image, split.Text, split.References, options.Captioning);
            captioningSeconds = Lap(clock);
        }

        return new EvaluationReport(
            split.Model, split.Split, (int)split.Image.shape[0], (int)split.Image.shape[1], gaps, centeredGaps,
            GapReduction.Between(gaps, centeredGaps), separability, zeroShot, retrieval, clustering, captioning,
            new EvaluationTimings(gapSeconds, separabilitySeconds, zeroShotSeconds, retrievalSeconds, clusteringSeconds, captioningSeconds),
            renormalisedGaps, centeredRenormalisedGaps)
        {
            Dimensionality = EffectiveDimensionality.Measure(split.Image, split.Text),
            Map = options.EmbeddingMap ? EmbeddingMaps.Compute(split.Image, split.Text, split.Labels) : null,
        };
    }

    private static double Lap(Stopwatch clock)
    {
        var seconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return seconds;
    }
}
