using ScottPlot;
using TpcCma.Evaluation;

namespace TpcCma.Service.Plots;

/// <summary>
/// The embedding picture of METHOD.md ("Embedding maps"): for each evaluation one column, PCA on top and t-SNE
/// below, held-out images drawn as filled circles and their captions as open triangles, both coloured by class.
/// Set side by side, the base and the final model show what alignment did to the two clouds.
/// </summary>
public static class EmbeddingPlots
{
    /// <summary>One evaluation's map with its title (e.g. "base", "final").</summary>
    public sealed record Panel(string Title, EmbeddingMap Map);

    public static byte[] Render(string jobName, string split, IReadOnlyList<Panel> panels, int width, int height)
    {
        if (panels.Count == 0)
        {
            var empty = new Plot();
            empty.Title($"{jobName}: embeddings ({split})");
            empty.Add.Annotation("no evaluation with an embedding map yet", Alignment.MiddleCenter);
            return empty.GetImageBytes(width, height, ImageFormat.Png);
        }
        var multiplot = new Multiplot();
        multiplot.RemovePlot(multiplot.GetPlot(0));
        var plots = new List<Plot>();
        foreach (var method in new[] { "PCA", "t-SNE" })
            foreach (var panel in panels)
            {
                var plot = new Plot();
                Draw(plot, method == "PCA" ? panel.Map.Pca : panel.Map.Tsne, panel.Map);
                plot.Title($"{panel.Title} · {method}", size: 13);
                plots.Add(plot);
            }
        foreach (var plot in plots) multiplot.AddPlot(plot);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, panels.Count);
        return multiplot.Render(width, height).GetImageBytes(ImageFormat.Png);
    }

    private static void Draw(Plot plot, double[][] points, EmbeddingMap map)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var n = map.Pairs;
        foreach (var group in Enumerable.Range(0, n).GroupBy(i => map.Labels[i]).OrderBy(g => g.Key))
        {
            var color = group.Key < 0 ? Colors.Gray : palette.GetColor(group.Key);
            var images = group.ToArray();
            var texts = images.Select(i => i + n).ToArray();
            var imageDots = plot.Add.ScatterPoints(images.Select(i => points[i][0]).ToArray(), images.Select(i => points[i][1]).ToArray(), color);
            imageDots.MarkerShape = MarkerShape.FilledCircle;
            imageDots.MarkerSize = 5;
            var textDots = plot.Add.ScatterPoints(texts.Select(i => points[i][0]).ToArray(), texts.Select(i => points[i][1]).ToArray(), color);
            textDots.MarkerShape = MarkerShape.OpenTriangleUp;
            textDots.MarkerSize = 6;
        }
        // Two legend entries say which marker is which modality; colours are classes.
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "image", MarkerShape = MarkerShape.FilledCircle, MarkerColor = Colors.Black, MarkerSize = 6 });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "text", MarkerShape = MarkerShape.OpenTriangleUp, MarkerColor = Colors.Black, MarkerSize = 6 });
        plot.HideGrid();
    }
}
