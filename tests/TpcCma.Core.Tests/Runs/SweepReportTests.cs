using System.Diagnostics;
using System.Text.Json.Nodes;
using TpcCma.Evaluation;
using TpcCma.Runs;
using TpcCma.Statistics;

namespace TpcCma.Core.Tests.Runs;

public class SweepReportTests
{
    private static readonly long[] Seeds = [0, 1, 2];

    /// <summary>
    /// Three seeds; per seed a base, its centered baseline and two aligned models. alpha 0.5 removes about 85 % of the
    /// raw gap; ARI = 0.9 - G_D on every row (so it lifts by 0.3 at alpha 0.5), while G_R also carries the centroid gap.
    /// </summary>
    private static SweepResults Results()
    {
        var rows = new List<SweepResultRow>();
        foreach (var seed in Seeds)
        {
            var wobble = 0.01 * seed;
            rows.Add(new SweepResultRow(SweepResults.Base, null, seed, Metrics(1.0 + wobble, 0.8, 0.6 + wobble)));
            rows.Add(new SweepResultRow(SweepResults.BaseCentered, null, seed, Metrics(0.6 + wobble, 0.0, 0.6 + wobble)));
        }
        foreach (var seed in Seeds)
        {
            var wobble = 0.01 * seed;
            rows.Add(new SweepResultRow(SweepResults.Align, 0.0, seed, Metrics(1.0 + wobble, 0.79, 0.6 + wobble)));
            rows.Add(new SweepResultRow(SweepResults.Align, 0.5, seed, Metrics(0.15 + wobble, 0.05 + 2 * wobble, 0.3 + wobble)));
        }
        return new SweepResults("synthetic", Seeds, [0.0, 0.5], new Dictionary<string, SweepSplitResults> { ["test"] = new(rows) });
    }

    private static Dictionary<string, double> Metrics(double raw, double centroid, double distribution) => new()
    {
        ["gap_raw"] = raw, ["gap_centroid"] = centroid, ["gap_distribution"] = distribution, ["joint_ari"] = 0.9 - distribution,
        ["zero_shot_top1"] = 0.4, ["cider_image_to_text"] = 1.0 - distribution, ["retrieval_i2t_r1"] = 0.2,
    };

    [Fact]
    public void Build_GroupsByMethod_AndPutsEveryMethodOnTheTradeOffPlots_WithTheParetoFront()
    {
        var results = Results();
        var rows = results.Splits["test"].Rows.ToList();
        foreach (var seed in Seeds)   // a peer method without alpha_target: half the raw gap closed, the best ARI
            rows.Add(new SweepResultRow(SweepResults.Align, null, seed, Metrics(0.5, 0.3, 0.1), "m2mix"));
        var table = SweepReport.Build(results with { Splits = new Dictionary<string, SweepSplitResults> { ["test"] = new(rows) } }).Single();

        Assert.Equal([null, null, null, null, "m2mix"], table.Summary!.Select(s => s.Method));
        Assert.Equal("m2mix", table.Rows[^1].Model);
        var ari = table.TradeOffs!.Single(p => p.Metric == "joint_ari");
        Assert.Equal(["base_centered", "align", "align", "align"], ari.Points.Select(p => p.Model));   // the base is the origin, not a point
        // (40 %, 0.3), (~0 %, 0.3), (85 %, 0.6), (50 %, 0.8): alpha 0.5 closes the most gap, m2mix keeps the most ARI.
        Assert.Equal([false, false, true, true], ari.Points.Select(p => p.Pareto));
        Assert.Equal(0.8, ari.Points[3].Value, 1e-12);
        var accuracy = table.TradeOffs!.Single(p => p.Metric == "zero_shot_top1");   // equal accuracy everywhere: the most gap closed wins
        Assert.Equal([false, false, true, false], accuracy.Points.Select(p => p.Pareto));
        Assert.Equal(["zero_shot_top1", "joint_ari", "cider_image_to_text"], table.TradeOffs!.Select(p => p.Metric));
    }

    [Fact]
    public void Build_SummarisesEachModelOverSeeds_WithPairedReductions()
    {
        var table = SweepReport.Build(Results()).Single();

        Assert.Equal(["base", "base_centered", "align", "align"], table.Summary!.Select(s => s.Model));
        var half = table.Summary!.Single(s => s.AlphaTarget == 0.5);
        Assert.Equal(3, half.Seeds);
        double[] raw = [0.15, 0.16, 0.17];
        Assert.Equal(raw.Average(), half.Metrics["gap_raw"].Value, 1e-12);
        Assert.Equal(Bootstrap.Mean(raw), half.Metrics["gap_raw"]);
        // Paired with the same seed's base: 100 * (1 - after / before) per seed, then their mean and interval.
        double[] reductions = [.. Seeds.Select(s => 100 * (1 - (0.15 + 0.01 * s) / (1.0 + 0.01 * s)))];
        Assert.Equal(Bootstrap.Mean(reductions), half.Reductions["gap_raw"]);
        Assert.Equal(0.3, half.Changes["joint_ari"].Value, 1e-12);
        Assert.Equal(0.3, half.Changes["joint_ari"].Low, 1e-12);    // the same lift on every seed: no width
        Assert.True(half.Changes["joint_ari"].Excludes(0));
        var baseRow = table.Summary![0];
        Assert.Empty(baseRow.Reductions);
        Assert.Equal(12, table.Rows.Count);
        Assert.Null(table.Rows[0].RawReduction);
        Assert.Equal(reductions[1], table.Rows.Single(r => r.AlphaTarget == 0.5 && r.Seed == 1).RawReduction!.Value, 1e-9);
    }

    [Fact]
    public void Build_ComparesRSquaredOnTheDistributionAndRawGaps_OverEveryRow()
    {
        var table = SweepReport.Build(Results()).Single();

        var ari = table.Comparisons!.Single(c => c.Metric == "joint_ari");
        Assert.Equal(12, ari.Points);
        Assert.Equal(1.0, ari.RSquaredDistribution, 1e-9);    // ARI = 0.9 - G_D on every row
        Assert.True(ari.RSquaredRaw < 0.95, $"R^2 on G_R {ari.RSquaredRaw}");
        Assert.True(ari.Difference.Low > 0, $"interval [{ari.Difference.Low}, {ari.Difference.High}]");
        Assert.Equal(ari.RSquaredDistribution - ari.RSquaredRaw, ari.Difference.Value, 1e-12);
        Assert.Contains(table.Fits, f => f.Metric == "joint_ari" && f.Gap == "distribution" && f.Models == 12);
        Assert.Equal(SweepReport.Build(Results()), SweepReport.Build(Results()), new ReportComparer());
    }

    [Fact]
    public void Results_SerialiseWithExactlyTheDocumentedFields()
    {
        var json = JsonNode.Parse(Results().ToJson())!.AsObject();

        Assert.Equal(["dataset", "seeds", "alpha_targets", "splits"], json.Select(p => p.Key));
        var row = json["splits"]!["test"]!["rows"]![0]!.AsObject();
        Assert.Equal(["model", "alpha_target", "seed", "metrics", "method"], row.Select(p => p.Key));
        Assert.Null(row["alpha_target"]);
        Assert.Null(row["method"]);
        var withMethod = Results() with { Splits = new Dictionary<string, SweepSplitResults>
            { ["test"] = new([new SweepResultRow(SweepResults.Align, null, 0, new Dictionary<string, double> { ["gap_raw"] = 1 }, "clip-refine")]) } };
        Assert.Equal("clip-refine", SweepResults.FromJson(withMethod.ToJson()).Splits["test"].Rows[0].Method);
        Assert.Equal(1.0, row["metrics"]!["gap_raw"]!.GetValue<double>());
        var back = SweepResults.FromJson(Results().ToJson());
        Assert.Equal(Results().Splits["test"].Rows.Count, back.Splits["test"].Rows.Count);
        Assert.Equal(0.5, back.Splits["test"].Rows[^1].AlphaTarget);
    }

    [Fact]
    public void SweepTableScript_RendersIntervalsAndTargets_FromAResultsFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sweep-results-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, Results().ToJson());
        try
        {
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(RefData.RepoRoot, "scripts", "sweep_table.py"));
            start.ArgumentList.Add(path);
            start.ArgumentList.Add("synthetic");
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();

            Assert.True(process.ExitCode == 0, errors);
            Assert.Contains("| alpha_target 0.5 | 3 | 0.160 ± ", output);
            Assert.Contains("raw gap reduced >= 80 %: 84.2 ± 0.8 % [83.3, 85.0] (met)", output);
            // The same lift on every seed: ARI +0.3, interval [0.3, 0.3], which excludes the base value.
            Assert.Contains("ARI up >= 0.15: 0.300 ± 0.000 [0.300, 0.300] (met)", output);
            // Zero-shot accuracy and R@1 do not vary here: no R^2 for them, so two of the four metrics count: missed.
            Assert.Contains("for >= 3 of 4 task metrics (interval above 0): 2 (joint_ari, cider_image_to_text) (**missed**)", output);
        }
        finally { File.Delete(path); }
    }

    /// <summary>Two reports are equal when every table's summary estimates and comparisons are.</summary>
    private sealed class ReportComparer : IEqualityComparer<IReadOnlyList<SweepTable>>
    {
        public bool Equals(IReadOnlyList<SweepTable>? a, IReadOnlyList<SweepTable>? b) =>
            a!.Count == b!.Count && a.Zip(b).All(p =>
                p.First.Summary!.Zip(p.Second.Summary!).All(s => s.First.Metrics.SequenceEqual(s.Second.Metrics) && s.First.Reductions.SequenceEqual(s.Second.Reductions))
                && p.First.Comparisons!.SequenceEqual(p.Second.Comparisons!));

        public int GetHashCode(IReadOnlyList<SweepTable> obj) => obj.Count;
    }
}
