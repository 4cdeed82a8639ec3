namespace TpcCma.Statistics;

/// <summary>A mean (or other estimate) with the bounds of its 95 % interval.</summary>
public sealed record Estimate(double Value, double Low, double High)
{
    /// <summary>True when the interval lies wholly on one side of <paramref name="value"/>.</summary>
    public bool Excludes(double value) => Low > value || High < value;
}

/// <summary>Intervals of a mean from a handful of repeats (seeds), where a bootstrap has too few points to resample.</summary>
public static class MeanInterval
{
    /// <summary>Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom (standard tables).</summary>
    private static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>
    /// The mean and its 95 % Student-t interval <c>mean ± t(n-1) s / sqrt(n)</c> (s with n - 1). One value gives
    /// an interval of that value alone: there is nothing to say how far it would move.
    /// </summary>
    public static Estimate StudentT(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values to average");
        var mean = values.Average();
        if (values.Count == 1) return new Estimate(mean, mean, mean);
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        var half = TQuantile975(values.Count - 1) * Math.Sqrt(variance / values.Count);
        return new Estimate(mean, mean - half, mean + half);
    }

    /// <summary>The 97.5 % quantile of t with <paramref name="df"/> degrees of freedom (Cornish-Fisher beyond the table).</summary>
    public static double TQuantile975(int df)
    {
        if (df < 1) throw new ArgumentOutOfRangeException(nameof(df), df, "degrees of freedom must be at least 1");
        if (df <= T975.Length) return T975[df - 1];
        const double z = 1.959963984540054;
        return z + (z * z * z + z) / (4.0 * df) + (5 * Math.Pow(z, 5) + 16 * z * z * z + 3 * z) / (96.0 * df * df);
    }
}
