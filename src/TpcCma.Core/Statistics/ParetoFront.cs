namespace TpcCma.Statistics;

/// <summary>
/// The Pareto front of points where both coordinates are better when larger (gap reduction against a task metric in
/// the sweep's trade-off plots): a point is on the front when no other point is at least as good on both and
/// strictly better on one. Points with a non-finite coordinate are never on it, nor do they dominate.
/// </summary>
public static class ParetoFront
{
    /// <summary>For each point, whether it is on the front; equal points are on it together.</summary>
    public static bool[] Mark(IReadOnlyList<(double X, double Y)> points)
    {
        var onFront = new bool[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            var (x, y) = points[i];
            if (!double.IsFinite(x) || !double.IsFinite(y)) continue;
            onFront[i] = !points.Any(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && p.X >= x && p.Y >= y && (p.X > x || p.Y > y));
        }
        return onFront;
    }

    /// <summary>The indices of the front's points, ordered by X (the order a plot joins them in).</summary>
    public static IReadOnlyList<int> Indices(IReadOnlyList<(double X, double Y)> points)
    {
        var marks = Mark(points);
        return [.. Enumerable.Range(0, points.Count).Where(i => marks[i]).OrderBy(i => points[i].X).ThenByDescending(i => points[i].Y)];
    }
}
