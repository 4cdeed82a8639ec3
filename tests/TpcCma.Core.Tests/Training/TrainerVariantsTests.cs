using TpcCma.Losses;
using TpcCma.Training;

namespace TpcCma.Core.Tests.Training;

/// <summary>The CMA variants and hard negatives reach the trainer from the spec and train.</summary>
public class TrainerVariantsTests
{
    [Fact]
    public void Run_GeometryVariant_SameAsPairwiseInPhase1_DiffersOnceAlignmentStarts()
    {
        using var threads = TrainerFixtures.SingleThread();
        var pairwise = Train(TrainerFixtures.Spec(20));
        var geometry = Train(TrainerFixtures.Spec(20) with { Cma = CmaVariant.Geometry });
        // Phase 1 (steps 1-5) has alpha = 0: the objective is L_clip whatever the variant.
        for (var step = 1; step <= 5; step++) Assert.Equal(pairwise[step]["clip"], geometry[step]["clip"]);
        Assert.NotEqual(pairwise[3]["cma"], geometry[3]["cma"]);   // the logged L_cma is the chosen variant's
        Assert.NotEqual(pairwise[20]["clip"], geometry[20]["clip"]);
    }

    [Fact]
    public void Run_EveryOptionTogether_OverfitsABatch_WithTheShareRule()
    {
        using var threads = TrainerFixtures.SingleThread();
        var spec = TrainerFixtures.Spec(60) with
        {
            Cma = CmaVariant.PairwiseGeometry, Negatives = NegativeWeighting.Reweighted, NegativesBeta = 1.0, LambdaUnif = 0.1,
        };
        var metrics = Train(spec, pool: 8);
        var clip = metrics.OrderBy(kv => kv.Key).Select(kv => kv.Value["clip"]).ToList();
        Assert.True(clip[^1] < 0.5 * clip[0], $"contrastive loss {clip[0]:F3} -> {clip[^1]:F3}");
        Assert.All(metrics.Values, m => Assert.True(double.IsFinite(m["loss"]) && double.IsFinite(m["cma"])));
        // The gradient-share rule holds for the chosen term: alpha w b = alpha a whenever w is below its cap.
        foreach (var m in metrics.Values.Where(m => m["alpha"] > 0 && m["w"] < spec.WMax))
            Assert.Equal(m["a"], m["w"] * m["b"], 1e-3 * m["a"]);
    }

    private static Dictionary<long, IReadOnlyDictionary<string, double>> Train(TrainingSpec spec, int pool = 32)
    {
        var observer = new RecordingObserver();
        using var batches = TrainerFixtures.Batches(pool: pool, batch: 8);
        using var model = TrainerFixtures.Model(5);
        using var trainer = new Trainer(spec, model, batches, TrainerFixtures.TempDirectory(), observer);
        trainer.Run(CancellationToken.None);
        return observer.Metrics;
    }
}
