using TpcCma.Statistics;

namespace TpcCma.Runs;

/// <summary>One model of a trade-off plot: its mean raw gap reduction and mean task metric over seeds, and whether it is on the Pareto front.</summary>
public sealed record TradeOffPoint(string Model, string? Method, double? AlphaTarget, double GapReduction, double Value, bool Pareto);

/// <summary>Every method (and post-hoc baseline) of a sweep on one plot: raw gap reduction (%) against <see cref="Metric"/>.</summary>
public sealed record TradeOffPlot(string Metric, IReadOnlyList<TradeOffPoint> Points);

/// <summary>
/// The sweep's trade-off plots: gap reduction against zero-shot accuracy, ARI and CIDEr, each model of the summary
/// (every method, every alpha_target, the post-hoc baselines; not the base, the origin of the reductions) as a
/// point, the Pareto front marked (<see cref="ParetoFront"/>: more gap closed and a higher metric are both better).
/// </summary>
public static class SweepTradeOffs
{
    public static IReadOnlyList<string> Metrics { get; } = ["zero_shot_top1", "joint_ari", "cider_image_to_text"];

    public static IReadOnlyList<TradeOffPlot> Build(IReadOnlyList<SweepSummaryRow> summary)
    {
        var plots = new List<TradeOffPlot>();
        foreach (var metric in Metrics)
        {
            var models = summary.Where(s => s.Model != SweepResults.Base
                && s.Reductions.TryGetValue("gap_raw", out var r) && double.IsFinite(r.Value)
                && s.Metrics.TryGetValue(metric, out var m) && double.IsFinite(m.Value)).ToList();
            if (models.Count == 0) continue;
            var marks = ParetoFront.Mark([.. models.Select(s => (s.Reductions["gap_raw"].Value, s.Metrics[metric].Value))]);
            plots.Add(new TradeOffPlot(metric, [.. models.Select((s, i) =>
                new TradeOffPoint(s.Model, s.Method, s.AlphaTarget, s.Reductions["gap_raw"].Value, s.Metrics[metric].Value, marks[i]))]));
        }
        return plots;
    }
}
