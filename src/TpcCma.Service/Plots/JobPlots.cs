using ScottPlot;
using TpcCma.Service.Api;

namespace TpcCma.Service.Plots;

/// <summary>
/// Server-side PNG charts of a job's curves (ScottPlot over SkiaSharp, headless): the losses, the alignment share
/// with the pull ratio, and the gap measures of each evaluation. The curriculum's phases are shaded behind the
/// training curves, taken from the trainer's per-step <c>phase</c> metric (1 anchor, 2 ramp, 3 consolidate).
/// </summary>
public static class JobPlots
{
    public static IReadOnlyList<string> Names { get; } = ["losses", "alpha", "gaps"];

    /// <summary>The training curves the losses and alpha plots read (gaps reads the <c>eval/*</c> curves).</summary>
    public static string[] MetricsFor(string name) => name == "losses" ? ["loss", "clip", "cma", "phase"] : ["alpha", "a", "b", "phase"];

    /// <summary>Fill of each phase's span (index phase - 1), drawn translucent behind the curves.</summary>
    public static readonly (string Name, Color Color)[] PhaseShades =
    [
        ("anchor", Colors.SteelBlue.WithAlpha(0.10)),
        ("ramp", Colors.Orange.WithAlpha(0.14)),
        ("consolidate", Colors.SeaGreen.WithAlpha(0.12)),
    ];

    public static byte[] Render(string name, string jobName, IReadOnlyList<MetricSeries> metrics, int width, int height)
    {
        var plot = new Plot();
        var byName = metrics.ToDictionary(m => m.Name);
        switch (name)
        {
            case "losses":
                ShadePhases(plot, byName);
                AddLine(plot, byName, "loss", "total", Colors.Black);
                AddLine(plot, byName, "clip", "contrastive (clip)", Colors.RoyalBlue);
                AddLine(plot, byName, "cma", "alignment (cma)", Colors.Crimson);
                plot.Title($"{jobName}: losses");
                plot.YLabel("loss");
                break;
            case "alpha":
                ShadePhases(plot, byName);
                AddLine(plot, byName, "alpha", "alpha (alignment share)", Colors.Crimson);
                if (PullRatio(byName) is { } ratio)
                {
                    var line = plot.Add.ScatterLine(ratio.Steps, ratio.Values, Colors.RoyalBlue);
                    line.LegendText = "pull ratio b/a";
                    line.Axes.YAxis = plot.Axes.Right;
                    plot.Axes.Right.Label.Text = "b / a";
                }
                plot.Title($"{jobName}: alignment share and pull ratio");
                plot.YLabel("alpha");
                break;
            case "gaps":
                var palette = new ScottPlot.Palettes.Category10();
                var index = 0;
                foreach (var series in metrics.Where(IsGapCurve).OrderBy(m => m.Name, StringComparer.Ordinal))
                {
                    var line = plot.Add.Scatter(series.Steps.Select(s => (double)s).ToArray(), series.Values, palette.GetColor(index++));
                    line.LegendText = series.Name["eval/".Length..];
                }
                plot.Title($"{jobName}: modality gap at each evaluation");
                plot.YLabel("gap");
                break;
            default:
                throw new ArgumentException($"unknown plot '{name}': one of {string.Join(", ", Names)}", nameof(name));
        }
        plot.XLabel("step");
        if (plot.GetPlottables().Any(p => p is ScottPlot.Plottables.Scatter)) plot.ShowLegend(Edge.Right);
        else plot.Add.Annotation("no data yet", Alignment.MiddleCenter);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>Gap curves of evaluations: <c>eval/SPLIT/gap_*</c>.</summary>
    public static bool IsGapCurve(MetricSeries series)
    {
        var parts = series.Name.Split('/');
        return parts is ["eval", _, var metric] && metric.StartsWith("gap_", StringComparison.Ordinal);
    }

    private static void AddLine(Plot plot, Dictionary<string, MetricSeries> byName, string metric, string label, Color color)
    {
        if (!byName.TryGetValue(metric, out var series) || series.Steps.Length == 0) return;
        var line = plot.Add.ScatterLine(series.Steps.Select(s => (double)s).ToArray(), series.Values, color);
        line.LegendText = label;
    }

    /// <summary>b/a per step: how hard the alignment loss pulls on the embeddings relative to the contrastive loss.</summary>
    private static (double[] Steps, double[] Values)? PullRatio(Dictionary<string, MetricSeries> byName)
    {
        if (!byName.TryGetValue("a", out var a) || !byName.TryGetValue("b", out var b)) return null;
        var aAt = a.Steps.Zip(a.Values).ToDictionary(p => p.First, p => p.Second);
        var points = b.Steps.Zip(b.Values)
            .Where(p => aAt.TryGetValue(p.First, out var av) && av > 0)
            .Select(p => (Step: (double)p.First, Ratio: p.Second / aAt[p.First]))
            .ToArray();
        return points.Length == 0 ? null : (points.Select(p => p.Step).ToArray(), points.Select(p => p.Ratio).ToArray());
    }

    /// <summary>One shaded span per run of equal <c>phase</c> values, from the step before the run to its last step.</summary>
    private static void ShadePhases(Plot plot, Dictionary<string, MetricSeries> byName)
    {
        if (!byName.TryGetValue("phase", out var phase) || phase.Steps.Length == 0) return;
        foreach (var span in PhaseSpans(phase))
        {
            if (span.Phase < 1 || span.Phase > PhaseShades.Length) continue;
            var (label, color) = PhaseShades[span.Phase - 1];
            var shade = plot.Add.HorizontalSpan(span.From, span.To, color);
            shade.LineStyle.Width = 0;
            shade.LegendText = label;
        }
    }

    public readonly record struct PhaseSpan(int Phase, double From, double To);

    public static IEnumerable<PhaseSpan> PhaseSpans(MetricSeries phase)
    {
        var start = 0;
        for (var i = 1; i <= phase.Steps.Length; i++)
        {
            if (i < phase.Steps.Length && phase.Values[i] == phase.Values[start]) continue;
            yield return new PhaseSpan((int)phase.Values[start], start == 0 ? phase.Steps[0] - 1 : phase.Steps[start - 1], phase.Steps[i - 1]);
            start = i;
        }
    }
}
