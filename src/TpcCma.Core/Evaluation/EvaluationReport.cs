using System.Text.Json;
using System.Text.Json.Serialization;
using TpcCma.Evaluation.Captioning;

namespace TpcCma.Evaluation;

/// <summary>Seconds spent on each part of an evaluation (null: the part did not run).</summary>
public sealed record EvaluationTimings(
    double Gaps, double? Separability, double? ZeroShot, double Retrieval, double? Clustering, double? Captioning);

/// <summary>
/// Everything one evaluation of one model on one split measured (METHOD.md, "Evaluation protocol"): gap
/// geometry as is and after post-hoc mean-centering, and the task metrics that were run. Parts that were not
/// run are null. Serialises to snake_case JSON with <see cref="ToJson"/>.
/// </summary>
/// <param name="Split">Which split the embeddings came from ("train", "test", ...).</param>
/// <param name="Pairs">Matched image/caption pairs used for the gap measures.</param>
/// <param name="Gaps">The gap geometry of this model; for the mean-centered baseline, of its centered
/// embeddings before renormalising (G_C = 0, G_D equal to the base's).</param>
/// <param name="MeanCenteredGaps">This model's embeddings mean-centered, before renormalising.</param>
/// <param name="MeanCenteringReduction">What centering alone removes: reductions from Gaps to MeanCenteredGaps.</param>
/// <param name="RenormalisedGaps">Only for the mean-centered baseline: the gaps of the renormalised vectors
/// its task metrics use (cosine space, where renormalising inflates G_D by 1/sqrt(1 - |mu|^2)).</param>
/// <param name="MeanCenteredRenormalisedGaps">This model's embeddings mean-centered, then renormalised.</param>
public sealed record EvaluationReport(
    string Model,
    string Split,
    int Pairs,
    int EmbedDim,
    GapMeasures Gaps,
    GapMeasures MeanCenteredGaps,
    GapReduction MeanCenteringReduction,
    double? Separability,
    ZeroShotResult? ZeroShot,
    RetrievalResult Retrieval,
    JointClusteringResult? JointClustering,
    CaptioningResult? Captioning,
    EvaluationTimings Timings,
    GapMeasures? RenormalisedGaps = null,
    GapMeasures? MeanCenteredRenormalisedGaps = null)
{
    /// <summary>Effective dimensionality of each modality and of the pooled embeddings (null in reports written before it existed).</summary>
    public DimensionalityResult? Dimensionality { get; init; }

    /// <summary>PCA and t-SNE pictures of (up to 100 of) the split's pairs, for the embeddings plot.</summary>
    public EmbeddingMap? Map { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static EvaluationReport FromJson(string json) =>
        JsonSerializer.Deserialize<EvaluationReport>(json, JsonOptions) ?? throw new InvalidDataException("the evaluation report is null");

    /// <summary>The gaps and task metrics of this report as a point of an R^2 sweep.</summary>
    public SweepPoint ToSweepPoint()
    {
        var gaps = new Dictionary<string, double>
        {
            ["raw"] = Gaps.Raw, ["centroid"] = Gaps.Centroid, ["distribution"] = Gaps.Distribution,
            ["frechet"] = Gaps.Frechet, ["rmg"] = Gaps.Rmg,
        };
        var metrics = new Dictionary<string, double>();
        if (ZeroShot is not null) metrics["zero_shot_top1"] = ZeroShot.Top1;
        metrics["retrieval_i2t_r1"] = Retrieval.ImageToTextR1;
        if (JointClustering is not null) metrics["joint_ari"] = JointClustering.Ari;
        if (Captioning is not null) metrics["cider_image_to_text"] = Captioning.ImageToText;
        return new SweepPoint(Model, gaps, metrics);
    }
}
