using TpcCma.Evaluation;
using TpcCma.Statistics;

namespace TpcCma.Runs;

/// <summary>One evaluated model of the table: its gaps (with reductions against the same seed's base) and task metrics.</summary>
public sealed record SweepRow(
    string Model, double? AlphaTarget, double GapRaw, double GapCentroid, double GapDistribution,
    double? RawReduction, double? CentroidReduction, double? DistributionReduction,
    double? ZeroShotTop1, double? Ari, double? CiderImageToText, double? CiderTextToText, double? Separability,
    long? Seed = null, double? GapMismatch = null, string? Method = null);

/// <summary>
/// A model over the sweep's seeds: each metric's mean with its 95 % bootstrap interval, and against the base of the
/// same seed (paired): the gap reductions in percent, and every metric's change, absolute and in percent.
/// </summary>
public sealed record SweepSummaryRow(
    string Model, double? AlphaTarget, int Seeds, IReadOnlyDictionary<string, Estimate> Metrics,
    IReadOnlyDictionary<string, Estimate> Reductions, IReadOnlyDictionary<string, Estimate> Changes,
    IReadOnlyDictionary<string, Estimate> PercentChanges, string? Method = null);

/// <summary>R^2 of a task metric on G_D and on G_R over every row, and their difference with a paired bootstrap interval.</summary>
public sealed record RSquaredComparison(string Metric, double RSquaredDistribution, double RSquaredRaw, Estimate Difference, int Points);

/// <summary>The table for one split, its summary over seeds, the R^2 of each task metric on each gap, and G_D against G_R.</summary>
public sealed record SweepTable(string Split, IReadOnlyList<SweepRow> Rows, IReadOnlyList<GapFit> Fits,
    IReadOnlyList<SweepSummaryRow>? Summary = null, IReadOnlyList<RSquaredComparison>? Comparisons = null,
    IReadOnlyList<TradeOffPlot>? TradeOffs = null);

/// <summary>
/// The report of a sweep over alpha_target and seeds (METHOD.md, "Trade-off and R^2 analysis"), computed from its
/// <see cref="SweepResults"/> alone, so the service's report and the exported file never disagree. Intervals are
/// percentile bootstraps over seeds with a fixed seed: the same results give the same report.
/// </summary>
public static class SweepReport
{
    private static readonly string[] Gaps = ["gap_raw", "gap_centroid", "gap_distribution"];

    public static IReadOnlyList<SweepTable> Build(SweepResults results)
    {
        var tables = new List<SweepTable>();
        foreach (var (split, splitResults) in results.Splits)
        {
            var rows = splitResults.Rows;
            var bases = rows.Where(r => r.Model == SweepResults.Base).GroupBy(r => r.Seed).ToDictionary(g => g.Key, g => g.First());
            if (bases.Count == 0) continue;
            // Rows grouped by method (a stable sort: a sweep of one method keeps its order); base rows have none and lead.
            var table = rows.OrderBy(r => r.Method ?? "", StringComparer.Ordinal).Select(r => Row(r, bases.GetValueOrDefault(r.Seed))).ToList();
            var summary = rows.GroupBy(r => (r.Model, r.Method, r.AlphaTarget))
                .OrderBy(g => Order(g.Key.Model)).ThenBy(g => g.Key.Method ?? "", StringComparer.Ordinal).ThenBy(g => g.Key.AlphaTarget)
                .Select(g => Summarise(g.Key.Model, g.Key.AlphaTarget, [.. g], bases) with { Method = g.Key.Method }).ToList();
            var points = rows.Select(r => new SweepPoint(r.Model,
                SweepResults.GapMetrics.Where(p => r.Metrics.ContainsKey(p.Metric)).ToDictionary(p => p.Gap, p => r.Metrics[p.Metric]),
                SweepResults.TaskMetrics.Where(r.Metrics.ContainsKey).ToDictionary(m => m, m => r.Metrics[m]))).ToList();
            var fits = points.Count >= 3 ? TradeOffAnalysis.Fit(points) : [];
            tables.Add(new SweepTable(split, table, fits, summary, points.Count >= 3 ? Compare(rows) : [], SweepTradeOffs.Build(summary)));
        }
        return tables;
    }

    private static int Order(string model) =>
        model switch { SweepResults.Base => 0, SweepResults.BaseCentered => 1, SweepResults.BaseCenteredNoise => 2, _ => 3 };

    private static SweepRow Row(SweepResultRow r, SweepResultRow? baseline)
    {
        var m = r.Metrics;
        var isBase = r.Model == SweepResults.Base;
        double? Get(string key) => m.TryGetValue(key, out var v) ? v : null;
        double? Reduction(string key) => isBase || baseline is null || Get(key) is not { } after || !baseline.Metrics.TryGetValue(key, out var before)
            ? null : GapReduction.Percent(before, after);
        var label = r.Model switch
        {
            SweepResults.Base => "base", SweepResults.BaseCentered => "base + mean-centering",
            SweepResults.BaseCenteredNoise => "base + mean-centering + noise (C3)",
            _ when r.Method is null => $"alpha_target {r.AlphaTarget}",
            _ when r.AlphaTarget is null => r.Method,
            _ => $"{r.Method}, alpha_target {r.AlphaTarget}",
        };
        return new SweepRow(label, r.AlphaTarget, Get("gap_raw") ?? double.NaN, Get("gap_centroid") ?? double.NaN, Get("gap_distribution") ?? double.NaN,
            Reduction("gap_raw"), Reduction("gap_centroid"), Reduction("gap_distribution"),
            Get("zero_shot_top1"), Get("joint_ari"), Get("cider_image_to_text"), Get("cider_text_to_text"), Get("separability"),
            r.Seed, Get("gap_mismatch"), r.Method);
    }

    private static SweepSummaryRow Summarise(string model, double? alpha, IReadOnlyList<SweepResultRow> rows, Dictionary<long, SweepResultRow> bases)
    {
        var metricNames = rows.SelectMany(r => r.Metrics.Keys).Distinct().Order(StringComparer.Ordinal);
        var metrics = new Dictionary<string, Estimate>(StringComparer.Ordinal);
        var reductions = new Dictionary<string, Estimate>(StringComparer.Ordinal);
        var changes = new Dictionary<string, Estimate>(StringComparer.Ordinal);
        var percent = new Dictionary<string, Estimate>(StringComparer.Ordinal);
        foreach (var name in metricNames)
        {
            var values = rows.Where(r => r.Metrics.ContainsKey(name)).Select(r => r.Metrics[name]).ToArray();
            if (values.Length > 0) metrics[name] = Bootstrap.Mean(values);
            if (model == SweepResults.Base) continue;
            // Paired by seed: each row against the base its own job started from.
            var pairs = rows.Where(r => r.Metrics.ContainsKey(name) && bases.TryGetValue(r.Seed, out var b) && b.Metrics.ContainsKey(name))
                .Select(r => (After: r.Metrics[name], Before: bases[r.Seed].Metrics[name])).ToArray();
            if (pairs.Length == 0) continue;
            changes[name] = Bootstrap.Mean([.. pairs.Select(p => p.After - p.Before)]);
            var relative = pairs.Where(p => p.Before != 0).ToArray();
            if (relative.Length > 0) percent[name] = Bootstrap.Mean([.. relative.Select(p => 100 * (p.After / p.Before - 1))]);
            if (Gaps.Contains(name) && relative.Length > 0) reductions[name] = Bootstrap.Mean([.. relative.Select(p => GapReduction.Percent(p.Before, p.After))]);
        }
        return new SweepSummaryRow(model, alpha, rows.Select(r => r.Seed).Distinct().Count(), metrics, reductions, changes, percent);
    }

    /// <summary>For each task metric present in every row: R^2 on G_D minus R^2 on G_R, resampling rows in pairs.</summary>
    private static IReadOnlyList<RSquaredComparison> Compare(IReadOnlyList<SweepResultRow> rows)
    {
        var comparisons = new List<RSquaredComparison>();
        foreach (var metric in SweepResults.TaskMetrics)
        {
            var usable = rows.Where(r => r.Metrics.ContainsKey(metric) && r.Metrics.ContainsKey("gap_distribution") && r.Metrics.ContainsKey("gap_raw")).ToList();
            if (usable.Count < 3 || usable.Count < rows.Count) continue;
            double[] distribution = [.. usable.Select(r => r.Metrics["gap_distribution"])];
            double[] raw = [.. usable.Select(r => r.Metrics["gap_raw"])];
            double[] values = [.. usable.Select(r => r.Metrics[metric])];
            var difference = TradeOffAnalysis.RSquaredDifference(distribution, raw, values);
            comparisons.Add(new RSquaredComparison(metric, TradeOffAnalysis.Line(metric, "distribution", distribution, values).RSquared,
                TradeOffAnalysis.Line(metric, "raw", raw, values).RSquared, difference, usable.Count));
        }
        return comparisons;
    }
}
