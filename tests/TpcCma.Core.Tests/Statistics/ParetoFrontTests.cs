using TpcCma.Statistics;

namespace TpcCma.Core.Tests.Statistics;

public class ParetoFrontTests
{
    [Fact]
    public void Mark_KeepsExactlyTheUndominatedPoints()
    {
        (double, double)[] points = [(0, 0.9), (50, 0.8), (40, 0.7), (80, 0.5), (80, 0.4), (10, 0.95), (60, 0.8)];
        // (50, 0.8) is dominated by (60, 0.8): as good on Y, better on X. (40, 0.7) by both; (80, 0.4) by (80, 0.5).
        Assert.Equal([false, false, false, true, false, true, true], ParetoFront.Mark(points));   // (0, 0.9) falls to (10, 0.95)
        Assert.Equal([5, 6, 3], ParetoFront.Indices(points));
    }

    [Fact]
    public void Mark_KeepsTiesTogether_AndIgnoresNonFinitePoints()
    {
        (double, double)[] points = [(1, 1), (1, 1), (double.NaN, 5), (2, double.PositiveInfinity), (0, 2)];
        Assert.Equal([true, true, false, false, true], ParetoFront.Mark(points));
        Assert.Empty(ParetoFront.Mark([]));
        Assert.Equal([true], ParetoFront.Mark([(3, -1)]));
    }
}
