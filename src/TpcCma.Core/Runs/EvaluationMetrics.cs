using TpcCma.Evaluation;

namespace TpcCma.Runs;

/// <summary>An evaluation report as flat named numbers (<c>eval/SPLIT/METRIC</c>), for metric curves and tables.</summary>
public static class EvaluationMetrics
{
    /// <param name="root"><c>eval</c>, or <c>eval_centered</c> for the mean-centered baseline, which is measured at the same step as the base.</param>
    public static Dictionary<string, double> Flatten(EvaluationReport r, string root = "eval")
    {
        var prefix = $"{root}/{r.Split}/";
        var m = new Dictionary<string, double>();
        // One family of metrics a line (full names, so that a search for one finds where it is written).
        Add(m, prefix, ("gap_raw", r.Gaps.Raw), ("gap_centroid", r.Gaps.Centroid), ("gap_distribution", r.Gaps.Distribution));
        Add(m, prefix, ("cos_pair", r.Gaps.CosPair), ("frechet", r.Gaps.Frechet), ("rmg", r.Gaps.Rmg));
        Add(m, prefix, ("centered_gap_raw", r.MeanCenteredGaps.Raw), ("centered_gap_distribution", r.MeanCenteredGaps.Distribution));
        Add(m, prefix, ("i2t_r1", r.Retrieval.ImageToTextR1), ("i2t_r5", r.Retrieval.ImageToTextR5),
            ("t2i_r1", r.Retrieval.TextToImageR1), ("t2i_r5", r.Retrieval.TextToImageR5));
        AddSpreads(m, prefix, r.Gaps);
        if (r.RenormalisedGaps is { } renormalised)
        {
            // The centered baseline in cosine space: named apart so they are never read as its gaps.
            m[prefix + "renormalised_gap_raw"] = renormalised.Raw;
            m[prefix + "renormalised_gap_centroid"] = renormalised.Centroid;
            m[prefix + "renormalised_gap_distribution"] = renormalised.Distribution;
        }
        if (r.MeanCenteredRenormalisedGaps is { } centeredRenormalised)
            m[prefix + "centered_renormalised_gap_distribution"] = centeredRenormalised.Distribution;
        if (r.Separability is { } s) m[prefix + "separability"] = s;
        if (r.ZeroShot is { } z) m[prefix + "zero_shot_top1"] = z.Top1;
        if (r.JointClustering is { } c) m[prefix + "ari"] = c.Ari;
        if (r.Captioning is { } cap)
        {
            m[prefix + "cider_image_to_text"] = cap.ImageToText;
            m[prefix + "cider_text_to_text"] = cap.TextToText;
            if (cap.ImageToTextProjected is { } projected) m[prefix + "cider_image_to_text_decap"] = projected;
        }
        if (r.Dimensionality is { } d)
        {
            Add(m, prefix, ("pr_image", d.Image.ParticipationRatio), ("pr_text", d.Text.ParticipationRatio), ("pr_pooled", d.Pooled.ParticipationRatio));
            Add(m, prefix, ("erank_image", d.Image.EffectiveRank), ("erank_text", d.Text.EffectiveRank), ("erank_pooled", d.Pooled.EffectiveRank));
        }
        return m;
    }

    private static void Add(Dictionary<string, double> m, string prefix, params (string Name, double Value)[] metrics)
    {
        foreach (var (name, value) in metrics) m[prefix + name] = value;
    }

    private static void AddSpreads(Dictionary<string, double> m, string prefix, GapMeasures g)
    {
        if (g.ImageSpread is { } image)
        {
            m[prefix + "image_spread_trace"] = image.CovarianceTrace;
            m[prefix + "image_spread_cosine"] = image.CosineDistance;
        }
        if (g.TextSpread is { } text)
        {
            m[prefix + "text_spread_trace"] = text.CovarianceTrace;
            m[prefix + "text_spread_cosine"] = text.CosineDistance;
        }
        if (g.Mismatch is { } mismatch) m[prefix + "gap_mismatch"] = mismatch;
    }
}
