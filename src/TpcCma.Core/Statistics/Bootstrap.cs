namespace TpcCma.Statistics;

/// <summary>
/// Percentile bootstrap intervals with a fixed seed, so a report computed twice from the same numbers is the same
/// report. Resamples whose statistic is undefined (NaN, e.g. an R^2 of a resample with one distinct x) are dropped.
/// </summary>
public static class Bootstrap
{
    public const int DefaultResamples = 2000;
    public const int DefaultSeed = 20260;

    /// <summary>The mean of <paramref name="values"/> and its 95 % percentile-bootstrap interval.</summary>
    public static Estimate Mean(IReadOnlyList<double> values, int resamples = DefaultResamples, int seed = DefaultSeed)
    {
        if (values.Count == 0) throw new ArgumentException("no values to average");
        return Statistic(values.Count, rows => rows.Average(i => values[i]), resamples, seed);
    }

    /// <summary>
    /// Any statistic of n rows and its 95 % interval: the statistic of the rows as they are, and the 2.5 and 97.5
    /// percentiles (linear interpolation, numpy's default) of the statistic over resamples of the row indices with
    /// replacement. A paired statistic (two quantities of the same rows) is resampled as pairs by construction.
    /// </summary>
    /// <param name="statistic">Computes the statistic from row indices (repeats allowed).</param>
    public static Estimate Statistic(int n, Func<int[], double> statistic, int resamples = DefaultResamples, int seed = DefaultSeed)
    {
        if (n < 1) throw new ArgumentException("no rows to resample");
        if (resamples < 10) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "use at least 10 resamples");
        var value = statistic([.. Enumerable.Range(0, n)]);
        var random = new Random(seed);
        var draws = new List<double>(resamples);
        var rows = new int[n];
        for (var b = 0; b < resamples; b++)
        {
            for (var i = 0; i < n; i++) rows[i] = random.Next(n);
            var s = statistic(rows);
            if (!double.IsNaN(s)) draws.Add(s);
        }
        // When most resamples are undefined the interval would describe a few lucky ones: say nothing instead.
        if (draws.Count < resamples / 2) return new Estimate(value, double.NaN, double.NaN);
        draws.Sort();
        return new Estimate(value, Percentile(draws, 2.5), Percentile(draws, 97.5));
    }

    /// <summary>The p-th percentile of sorted values with linear interpolation between ranks.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) throw new ArgumentException("no values");
        var rank = p / 100 * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + (rank - low) * (sorted[high] - sorted[low]);
    }
}
