using TpcCma.Statistics;

namespace TpcCma.Evaluation;

/// <summary>One evaluated model in a sweep: its gap measures and task metrics, by name.</summary>
public sealed record SweepPoint(string Name, IReadOnlyDictionary<string, double> Gaps, IReadOnlyDictionary<string, double> Metrics);

/// <summary>A least-squares line <c>metric = Intercept + Slope * gap</c> over the sweep's models and its R^2.</summary>
public sealed record GapFit(string Metric, string Gap, double Slope, double Intercept, double RSquared, int Models);

/// <summary>
/// The R^2 analysis of METHOD.md ("Trade-off and R^2 analysis"): over all evaluated models, a linear regression
/// of each task metric on each gap measure, and its coefficient of determination.
/// </summary>
public static class TradeOffAnalysis
{
    /// <summary>One fit per (metric, gap) pair present in every point, metrics outer, both in first-point order.</summary>
    public static IReadOnlyList<GapFit> Fit(IReadOnlyList<SweepPoint> points)
    {
        if (points.Count < 3) throw new ArgumentException($"an R^2 needs at least 3 evaluated models, got {points.Count}");
        var metrics = points[0].Metrics.Keys.Where(m => points.All(p => p.Metrics.ContainsKey(m))).ToArray();
        var gaps = points[0].Gaps.Keys.Where(g => points.All(p => p.Gaps.ContainsKey(g))).ToArray();
        return [.. from metric in metrics
                   from gap in gaps
                   select Line(metric, gap, points.Select(p => p.Gaps[gap]).ToArray(), points.Select(p => p.Metrics[metric]).ToArray())];
    }

    /// <summary>
    /// Ordinary least squares of y on x. R^2 = 1 - SS_res / SS_tot; NaN when y or x does not vary (nothing to
    /// explain, or nothing to explain it with).
    /// </summary>
    public static GapFit Line(string metric, string gap, double[] x, double[] y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"{x.Length} gap values for {y.Length} metric values");
        var meanX = x.Average();
        var meanY = y.Average();
        double sxx = 0, sxy = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxx += (x[i] - meanX) * (x[i] - meanX);
            sxy += (x[i] - meanX) * (y[i] - meanY);
            syy += (y[i] - meanY) * (y[i] - meanY);
        }
        if (sxx == 0 || syy == 0) return new GapFit(metric, gap, double.NaN, double.NaN, double.NaN, x.Length);
        var slope = sxy / sxx;
        var intercept = meanY - slope * meanX;
        var residual = x.Select((xi, i) => y[i] - (intercept + slope * xi)).Sum(r => r * r);
        return new GapFit(metric, gap, slope, intercept, 1 - residual / syy, x.Length);
    }

    /// <summary>
    /// R^2 of <paramref name="metric"/> on <paramref name="gapA"/> minus R^2 on <paramref name="gapB"/>, with a paired
    /// 95 % bootstrap interval: each resample draws the same points (jobs) for both fits, so what the two gaps
    /// share cancels. An interval above 0 says gap A explains the metric better than gap B on these points.
    /// </summary>
    public static Estimate RSquaredDifference(double[] gapA, double[] gapB, double[] metric, int resamples = Bootstrap.DefaultResamples, int seed = Bootstrap.DefaultSeed)
    {
        if (gapA.Length != metric.Length || gapB.Length != metric.Length)
            throw new ArgumentException($"{gapA.Length} and {gapB.Length} gap values for {metric.Length} metric values");
        if (metric.Length < 3) throw new ArgumentException($"an R^2 needs at least 3 points, got {metric.Length}");
        double RSquared(double[] gap, int[] rows) =>
            Line("", "", [.. rows.Select(i => gap[i])], [.. rows.Select(i => metric[i])]).RSquared;
        return Bootstrap.Statistic(metric.Length, rows => RSquared(gapA, rows) - RSquared(gapB, rows), resamples, seed);
    }
}
