using TpcCma.Evaluation;

namespace TpcCma.Runs;

/// <summary>One row of the paper-style table: a model, its three gaps with reductions against the base, and its task metrics.</summary>
public sealed record SweepRow(
    string Model, double? AlphaTarget, double GapRaw, double GapCentroid, double GapDistribution,
    double? RawReduction, double? CentroidReduction, double? DistributionReduction,
    double? ZeroShotTop1, double? Ari, double? CiderImageToText, double? CiderTextToText, double? Separability);

/// <summary>The table for one split plus the R^2 of each task metric on each gap measure across its rows.</summary>
public sealed record SweepTable(string Split, IReadOnlyList<SweepRow> Rows, IReadOnlyList<GapFit> Fits);

/// <summary>
/// The report of an <c>alpha_target</c> sweep (METHOD.md, "Trade-off and R^2 analysis"): per split, the base
/// model, the base with mean-centering, and each run's final model; then R^2 over all of them.
/// </summary>
public static class SweepReport
{
    /// <param name="runs">Each run's alpha_target and its evaluations (labels base, base_centered, final).</param>
    public static IReadOnlyList<SweepTable> Build(IReadOnlyList<(double AlphaTarget, IReadOnlyList<RunEvaluationRecord> Evaluations)> runs)
    {
        var tables = new List<SweepTable>();
        var splits = runs.SelectMany(r => r.Evaluations).Select(e => e.Report.Split).Distinct().ToList();
        foreach (var split in splits)
        {
            EvaluationReport? Find(IReadOnlyList<RunEvaluationRecord> evaluations, string label) =>
                evaluations.FirstOrDefault(e => e.Label == label && e.Report.Split == split)?.Report;
            var baseline = runs.Select(r => Find(r.Evaluations, "base")).FirstOrDefault(r => r is not null);
            if (baseline is null) continue;
            var entries = new List<(string Model, double? Alpha, EvaluationReport Report)> { ("base", null, baseline) };
            if (runs.Select(r => Find(r.Evaluations, "base_centered")).FirstOrDefault(r => r is not null) is { } centered)
                entries.Add(("base + mean-centering", null, centered));
            foreach (var (alpha, evaluations) in runs.OrderBy(r => r.AlphaTarget))
                if (Find(evaluations, "final") is { } final) entries.Add(($"alpha_target {alpha}", alpha, final));

            var rows = entries.Select(e => Row(e.Model, e.Alpha, e.Report, baseline)).ToList();
            var fits = entries.Count >= 3 ? TradeOffAnalysis.Fit([.. entries.Select(e => e.Report.ToSweepPoint() with { Name = e.Model })]) : [];
            tables.Add(new SweepTable(split, rows, fits));
        }
        return tables;
    }

    private static SweepRow Row(string model, double? alpha, EvaluationReport r, EvaluationReport baseline)
    {
        var isBase = ReferenceEquals(r, baseline);
        double? Reduction(double before, double after) => isBase ? null : GapReduction.Percent(before, after);
        return new SweepRow(model, alpha, r.Gaps.Raw, r.Gaps.Centroid, r.Gaps.Distribution,
            Reduction(baseline.Gaps.Raw, r.Gaps.Raw), Reduction(baseline.Gaps.Centroid, r.Gaps.Centroid), Reduction(baseline.Gaps.Distribution, r.Gaps.Distribution),
            r.ZeroShot?.Top1, r.JointClustering?.Ari, r.Captioning?.ImageToText, r.Captioning?.TextToText, r.Separability);
    }
}
