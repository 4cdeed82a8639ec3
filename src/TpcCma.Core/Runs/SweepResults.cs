using System.Text.Json;
using System.Text.Json.Serialization;
using TpcCma.Evaluation;

namespace TpcCma.Runs;

/// <summary>One finished job of a sweep: its alpha_target, seed and stored evaluations (labels base, base_centered, final).</summary>
/// <param name="Method">The sweep's name for the job's method (a <c>methods</c> entry, or the spec's method); null: not recorded.</param>
/// <param name="AlphaApplies">False for methods that do not use alpha_target (m2mix, clip_refine, align_clip): their rows carry none.</param>
public sealed record SweepRun(double AlphaTarget, long Seed, IReadOnlyList<RunEvaluationRecord> Evaluations, string? Method = null, bool AlphaApplies = true);

/// <summary>One evaluated model of a sweep's export: <c>base</c> and <c>base_centered</c> once per seed, <c>align</c> once per job.</summary>
/// <param name="AlphaTarget">Null for the base rows.</param>
/// <param name="Metrics">Finite values only: a metric that was not measured is absent, never NaN.</param>
/// <param name="Method">The method of an <c>align</c> row (a sweep's <c>methods</c> entry name); null for base rows.</param>
public sealed record SweepResultRow(string Model, double? AlphaTarget, long Seed, IReadOnlyDictionary<string, double> Metrics, string? Method = null);

public sealed record SweepSplitResults(IReadOnlyList<SweepResultRow> Rows);

/// <summary>
/// The machine-readable results of a sweep (<c>GET /v1/sweeps/{id}/results.json</c>, <c>docs/results/*.json</c>):
/// <c>{"dataset", "seeds", "alpha_targets", "splits": {SPLIT: {"rows": [{"model", "alpha_target", "seed", "metrics", "method"}]}}}</c>.
/// Everything the sweep report states is computed from these rows (<see cref="SweepReport.Build"/>).
/// </summary>
public sealed record SweepResults(string Dataset, IReadOnlyList<long> Seeds, IReadOnlyList<double> AlphaTargets,
    IReadOnlyDictionary<string, SweepSplitResults> Splits)
{
    public const string Base = "base";
    public const string BaseCentered = "base_centered";
    /// <summary>C3's post-hoc baseline: mean-centering plus noise (<see cref="CollapseCorrupt"/>).</summary>
    public const string BaseCenteredNoise = "base_centered_noise";
    public const string Align = "align";

    /// <summary>The task metrics whose R^2 on each gap the report fits, in table order.</summary>
    public static IReadOnlyList<string> TaskMetrics { get; } = ["zero_shot_top1", "retrieval_i2t_r1", "joint_ari", "cider_image_to_text"];

    /// <summary>The gap measures the fits use, by short name, and the metric that holds each.</summary>
    public static IReadOnlyList<(string Gap, string Metric)> GapMetrics { get; } =
        [("raw", "gap_raw"), ("centroid", "gap_centroid"), ("distribution", "gap_distribution"), ("frechet", "gap_frechet"),
         ("rmg", "gap_rmg"), ("mismatch", "gap_mismatch")];

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = true,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static SweepResults FromJson(string json) =>
        JsonSerializer.Deserialize<SweepResults>(json, JsonOptions) ?? throw new InvalidDataException("the sweep results are null");

    /// <summary>
    /// Rows from the sweep's finished jobs: each seed's base and base_centered (from the first job of that seed in
    /// alpha order: every job of a seed evaluates the same base with the same decoder seeds) and each job's final model.
    /// </summary>
    public static SweepResults FromRuns(string dataset, IReadOnlyList<double> alphaTargets, IReadOnlyList<SweepRun> runs)
    {
        var ordered = runs.OrderBy(r => r.Seed).ThenBy(r => r.Method, StringComparer.Ordinal).ThenBy(r => r.AlphaTarget).ToList();
        var splits = ordered.SelectMany(r => r.Evaluations).Select(e => e.Report.Split).Distinct().ToList();
        var result = new Dictionary<string, SweepSplitResults>(StringComparer.Ordinal);
        foreach (var split in splits)
        {
            EvaluationReport? Find(SweepRun run, string label) =>
                run.Evaluations.FirstOrDefault(e => e.Label == label && e.Report.Split == split)?.Report;
            var rows = new List<SweepResultRow>();
            foreach (var seed in ordered.Select(r => r.Seed).Distinct())
                foreach (var label in new[] { Base, BaseCentered, BaseCenteredNoise })
                    if (ordered.Where(r => r.Seed == seed).Select(r => Find(r, label)).FirstOrDefault(r => r is not null) is { } report)
                        rows.Add(new SweepResultRow(label, null, seed, MetricsOf(report)));
            foreach (var run in ordered)
                if (Find(run, "final") is { } final)
                    rows.Add(new SweepResultRow(Align, run.AlphaApplies ? run.AlphaTarget : null, run.Seed, MetricsOf(final), run.Method));
            result[split] = new SweepSplitResults(rows);
        }
        return new SweepResults(dataset, [.. ordered.Select(r => r.Seed).Distinct()], alphaTargets, result);
    }

    /// <summary>An evaluation report as the export's named numbers (finite ones only).</summary>
    public static IReadOnlyDictionary<string, double> MetricsOf(EvaluationReport r)
    {
        var m = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["gap_raw"] = r.Gaps.Raw, ["gap_centroid"] = r.Gaps.Centroid, ["gap_distribution"] = r.Gaps.Distribution,
            ["gap_frechet"] = r.Gaps.Frechet, ["gap_rmg"] = r.Gaps.Rmg, ["cos_pair"] = r.Gaps.CosPair,
            ["retrieval_i2t_r1"] = r.Retrieval.ImageToTextR1,
        };
        if (r.Gaps.Mismatch is { } mismatch) m["gap_mismatch"] = mismatch;
        if (r.Gaps.ImageSpread is { } image) (m["image_spread_trace"], m["image_spread_cosine"]) = (image.CovarianceTrace, image.CosineDistance);
        if (r.Gaps.TextSpread is { } text) (m["text_spread_trace"], m["text_spread_cosine"]) = (text.CovarianceTrace, text.CosineDistance);
        if (r.RenormalisedGaps is { } renormalised)
            (m["renormalised_gap_raw"], m["renormalised_gap_centroid"], m["renormalised_gap_distribution"]) =
                (renormalised.Raw, renormalised.Centroid, renormalised.Distribution);
        if (r.Separability is { } separability) m["separability"] = separability;
        if (r.ZeroShot is { } zeroShot) m["zero_shot_top1"] = zeroShot.Top1;
        if (r.JointClustering is { } clustering) m["joint_ari"] = clustering.Ari;
        if (r.Captioning is { } captioning)
        {
            m["cider_image_to_text"] = captioning.ImageToText;
            m["cider_text_to_text"] = captioning.TextToText;
            if (captioning.ImageToTextProjected is { } decap) m["cider_image_to_text_decap"] = decap;
        }
        if (r.Dimensionality is { } d)
            foreach (var (cloud, of) in new[] { ("image", d.Image), ("text", d.Text), ("pooled", d.Pooled) })
                (m[$"participation_ratio_{cloud}"], m[$"effective_rank_{cloud}"]) = (of.ParticipationRatio, of.EffectiveRank);
        return m.Where(p => double.IsFinite(p.Value)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
    }
}
