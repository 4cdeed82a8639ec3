using TpcCma.Evaluation;
using TpcCma.Statistics;

namespace TpcCma.Core.Tests.Statistics;

public class BootstrapTests
{
    private static double[] Normal(Random random, int n, double mean, double sd) =>
        [.. Enumerable.Range(0, n).Select(_ => mean + sd * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))];

    [Fact]
    public void Mean_IntervalCoversTheTrueMean_InAboutNinetyFivePercentOfSamples()
    {
        var random = new Random(3);
        var covered = 0;
        const int trials = 200;
        for (var t = 0; t < trials; t++)
        {
            var sample = Normal(random, 40, mean: 5.0, sd: 2.0);
            var estimate = Bootstrap.Mean(sample, resamples: 500, seed: t);
            if (estimate.Low <= 5.0 && 5.0 <= estimate.High) covered++;
            Assert.Equal(sample.Average(), estimate.Value, 1e-12);
        }
        // The percentile bootstrap runs a little narrow at n = 40; 200 trials put 95 % coverage near 190 +- 6.
        Assert.InRange(covered, 175, 200);
    }

    [Fact]
    public void Mean_IsReproducible_ForAFixedSeed_AndMovesWithTheSeed()
    {
        double[] values = [1.0, 4.0, 2.5, 7.0, 3.0, 0.5, 9.25, 1.75, 6.5, 2.125];

        var first = Bootstrap.Mean(values);
        var again = Bootstrap.Mean(values);
        var other = Bootstrap.Mean(values, seed: 99);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.True(first.Low < first.Value && first.Value < first.High);
    }

    [Fact]
    public void Mean_OfConstantValues_IsThatValueWithNoWidth()
    {
        var estimate = Bootstrap.Mean([2.0, 2.0, 2.0]);

        Assert.Equal(new Estimate(2.0, 2.0, 2.0), estimate);
        Assert.False(estimate.Excludes(2.0));
        Assert.True(estimate.Excludes(1.9));
    }

    [Fact]
    public void Percentile_InterpolatesBetweenRanks_LikeNumpy()
    {
        double[] sorted = [1, 2, 3, 4];

        // numpy.percentile([1, 2, 3, 4], q): rank = q/100 * 3, linear between neighbours.
        Assert.Equal(2.5, Bootstrap.Percentile(sorted, 50), 1e-12);
        Assert.Equal(1 + 0.075, Bootstrap.Percentile(sorted, 2.5), 1e-12);
        Assert.Equal(4 - 0.075, Bootstrap.Percentile(sorted, 97.5), 1e-12);
    }

    [Fact]
    public void StudentT_MatchesTheTextbookInterval()
    {
        var estimate = MeanInterval.StudentT([1.0, 2.0, 3.0]);   // mean 2, s = 1, t(2) = 4.303

        Assert.Equal(2.0, estimate.Value, 1e-12);
        Assert.Equal(2.0 - 4.303 / Math.Sqrt(3), estimate.Low, 1e-12);
        Assert.Equal(2.0 + 4.303 / Math.Sqrt(3), estimate.High, 1e-12);
        Assert.Equal(1.96, MeanInterval.TQuantile975(100_000), 1e-3);
        Assert.InRange(MeanInterval.TQuantile975(31), 2.039, 2.041);   // tables: t(31) = 2.0395
    }

    [Fact]
    public void RSquaredDifference_ExcludesZero_WhenOneGapExplainsTheMetricAndTheOtherDoesNot()
    {
        var random = new Random(11);
        var n = 40;
        var explaining = Normal(random, n, 0, 1);
        var unrelated = Normal(random, n, 0, 1);
        var noise = Normal(random, n, 0, 0.3);
        var metric = explaining.Select((g, i) => 2 * g + noise[i]).ToArray();

        var difference = TradeOffAnalysis.RSquaredDifference(explaining, unrelated, metric);

        var expected = TradeOffAnalysis.Line("m", "a", explaining, metric).RSquared - TradeOffAnalysis.Line("m", "b", unrelated, metric).RSquared;
        Assert.Equal(expected, difference.Value, 1e-12);
        Assert.True(difference.Low > 0.5, $"interval [{difference.Low}, {difference.High}]");
        var reversed = TradeOffAnalysis.RSquaredDifference(unrelated, explaining, metric);
        Assert.True(reversed.High < -0.5, $"interval [{reversed.Low}, {reversed.High}]");
    }

    [Fact]
    public void RSquaredDifference_OfAGapWithItself_IsExactlyZero()
    {
        var random = new Random(5);
        var gap = Normal(random, 12, 0, 1);
        var metric = Normal(random, 12, 0, 1);

        var difference = TradeOffAnalysis.RSquaredDifference(gap, gap, metric);

        Assert.Equal(new Estimate(0, 0, 0), difference);
    }
}
