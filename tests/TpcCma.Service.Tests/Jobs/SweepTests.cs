using System.Net;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>An alpha_target sweep: one job per value, then the table of base, mean-centered base and each run, with R^2 fits.</summary>
[TakesAbout(seconds: 120)]
public sealed class SweepTests() : UserDeploymentTests(new UserDeployment("sweeps", shapes: 64))
{
    [Fact]
    public async Task Sweep_RunsOneJobPerAlphaAndSeed_AndReportsIntervalsAndTheResultsFile()
    {
        await Stack.StartWorkerAsync("node-a");
        // Caption decoders of the fewest steps: the results file must carry CIDEr-D, not a good one.
        var sweep = await Deployment.SubmitSweepAsync(new
        {
            name = "tiny-sweep", alpha_targets = new[] { 0.0, 0.6 }, seeds = new[] { 5L, 6L },
            spec = new { steps = 12, batch_size = 16, lr = 1e-4, log_every = 4, eval = new { captioning_steps = 2, captioning_seeds = 1, train_sample = 0, at_phase_boundaries = false } },
        });
        var jobs = sweep["jobs"]!.AsArray();
        Assert.Equal([(5L, 0.0), (5L, 0.6), (6L, 0.0), (6L, 0.6)],
            jobs.Select(j => (j!["seed"]!.GetValue<long>(), j["spec"]!["alpha_target"]!.GetValue<double>())));
        Assert.Equal([5L, 6L], jobs.Select(j => j!["spec"]!["seed"]!.GetValue<long>()).Distinct());

        var done = await Deployment.WaitForSweepAsync(sweep, TimeSpan.FromSeconds(300));
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        var table = done["report"]!.AsArray().Single(t => t!["split"]!.GetValue<string>() == "test")!;
        Assert.Equal(["base", "base + mean-centering", "base + mean-centering + noise (C3)", "base", "base + mean-centering", "base + mean-centering + noise (C3)",
                "alpha_target 0", "alpha_target 0.6", "alpha_target 0", "alpha_target 0.6"],
            table["rows"]!.AsArray().Select(r => r!["model"]!.GetValue<string>()));

        // Each model over the two seeds: a mean inside its interval, and reductions paired with the same seed's base.
        var summary = table["summary"]!.AsArray();
        Assert.Equal(["base", "base_centered", "base_centered_noise", "align", "align"], summary.Select(r => r!["model"]!.GetValue<string>()));
        foreach (var row in summary)
        {
            Assert.Equal(2, row!["seeds"]!.GetValue<int>());
            var raw = row["metrics"]!["gap_raw"]!;
            Assert.InRange(raw["value"]!.GetValue<double>(), raw["low"]!.GetValue<double>(), raw["high"]!.GetValue<double>());
        }
        var centered = summary[1]!;
        Assert.Equal(0, centered["metrics"]!["gap_centroid"]!["value"]!.GetValue<double>(), 1e-9);
        Assert.Equal(0, centered["changes"]!["gap_distribution"]!["value"]!.GetValue<double>(), 1e-6);
        // C3's noise moves the centred clouds: its centroid gap is no longer exactly 0, but small beside the base's.
        var c3 = summary[2]!;
        Assert.InRange(c3["metrics"]!["gap_centroid"]!["value"]!.GetValue<double>(), 1e-9, 0.5 * summary[0]!["metrics"]!["gap_centroid"]!["value"]!.GetValue<double>());
        Assert.True(summary[4]!["reductions"]!["gap_raw"]!["value"]!.GetValue<double>() > summary[3]!["reductions"]!["gap_raw"]!["value"]!.GetValue<double>(),
            "a larger alpha_target closes more gap");
        Assert.Contains(table["fits"]!.AsArray(), f => f!["gap"]!.GetValue<string>() == "distribution" && f["models"]!.GetValue<int>() == 10);
        var comparison = table["comparisons"]!.AsArray().Single(c => c!["metric"]!.GetValue<string>() == "joint_ari")!;
        Assert.Equal(10, comparison["points"]!.GetValue<int>());
        Assert.NotNull(comparison["difference"]!["low"]);

        var results = await ServiceStack.ReadJsonAsync(await Client.GetAsync($"/v1/sweeps/{sweep["id"]}/results.json"));
        Assert.Equal(["dataset", "seeds", "alpha_targets", "splits"], results.Select(p => p.Key));
        Assert.Equal([5L, 6L], results["seeds"]!.AsArray().Select(s => s!.GetValue<long>()));
        Assert.Equal([0.0, 0.6], results["alpha_targets"]!.AsArray().Select(s => s!.GetValue<double>()));
        Assert.False(string.IsNullOrEmpty(results["dataset"]!.GetValue<string>()));
        var resultRows = results["splits"]!["test"]!["rows"]!.AsArray();
        Assert.Equal(10, resultRows.Count);
        Assert.Equal(["model", "alpha_target", "seed", "metrics", "method"], resultRows[0]!.AsObject().Select(p => p.Key));
        Assert.All(resultRows, r => Assert.Null(r!["method"]));   // a sweep without methods names none
        Assert.Equal(["base", "base_centered", "base_centered_noise", "base", "base_centered", "base_centered_noise", "align", "align", "align", "align"],
            resultRows.Select(r => r!["model"]!.GetValue<string>()));
        var align = resultRows[6]!;
        Assert.Equal(0.0, align["alpha_target"]!.GetValue<double>());
        foreach (var metric in new[] { "gap_raw", "gap_centroid", "gap_distribution", "zero_shot_top1", "joint_ari", "cider_image_to_text", "cider_text_to_text", "gap_mismatch",
                     "cider_image_to_text_decap", "participation_ratio_pooled", "effective_rank_pooled" })
            Assert.True(align["metrics"]![metric] is not null, $"results.json rows lack {metric}");
        Assert.Null(resultRows[0]!["alpha_target"]);
    }

    [Fact]
    public async Task Sweep_WithTwoMethods_RunsEachMethodPerSeed_AndGroupsTheReportByMethod()
    {
        await Stack.StartWorkerAsync("node-a");
        var sweep = await Deployment.SubmitSweepAsync(new
        {
            name = "methods", alpha_targets = new[] { 0.4 }, seeds = new[] { 1L, 2L },
            methods = new object[]
            {
                new { name = "tpccma-pairwise", spec = new { cma = "pairwise" } },
                new { name = "clip-refine", spec = new { method = "clip_refine", clip_refine_alpha = 0.7 } },
            },
            // The grouping is under test, not the scores: no caption decoders.
            spec = new { steps = 6, batch_size = 16, lr = 1e-4, log_every = 3, eval = new { captioning = false, train_sample = 0, at_phase_boundaries = false } },
        });
        var jobs = sweep["jobs"]!.AsArray();
        Assert.Equal(["methods:clip-refine-seed1", "methods:clip-refine-seed2", "methods:tpccma-pairwise-alpha0.4-seed1", "methods:tpccma-pairwise-alpha0.4-seed2"],
            jobs.Select(j => j!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var refine = jobs.Where(j => j!["name"]!.GetValue<string>().Contains("clip-refine")).ToList();
        Assert.All(refine, j => Assert.Equal("clip_refine", j!["spec"]!["method"]!.GetValue<string>()));
        Assert.All(refine, j => Assert.Equal(0.7, j!["spec"]!["clip_refine_alpha"]!.GetValue<double>()));

        var done = await Deployment.WaitForSweepAsync(sweep, TimeSpan.FromSeconds(300));
        var table = done["report"]!.AsArray().Single(t => t!["split"]!.GetValue<string>() == "test")!;
        Assert.Equal(["base", "base + mean-centering", "base + mean-centering + noise (C3)", "base", "base + mean-centering", "base + mean-centering + noise (C3)", "clip-refine", "clip-refine",
                "tpccma-pairwise, alpha_target 0.4", "tpccma-pairwise, alpha_target 0.4"],
            table["rows"]!.AsArray().Select(r => r!["model"]!.GetValue<string>()));
        var summary = table["summary"]!.AsArray();
        Assert.Equal([null, null, null, "clip-refine", "tpccma-pairwise"], summary.Select(r => r!["method"]?.GetValue<string>()));
        Assert.All(summary, r => Assert.Equal(2, r!["seeds"]!.GetValue<int>()));
        Assert.Null(summary[3]!["alpha_target"]);
        Assert.Equal(0.4, summary[4]!["alpha_target"]!.GetValue<double>());

        var results = await ServiceStack.ReadJsonAsync(await Client.GetAsync($"/v1/sweeps/{sweep["id"]}/results.json"));
        var rows = results["splits"]!["test"]!["rows"]!.AsArray();
        Assert.Equal([null, null, null, null, null, null, "clip-refine", "tpccma-pairwise", "clip-refine", "tpccma-pairwise"],
            rows.Select(r => r!["method"]?.GetValue<string>()));
        Assert.Equal([1L, 1L, 2L, 2L], rows.Skip(6).Select(r => r!["seed"]!.GetValue<long>()).Order());
    }
}
