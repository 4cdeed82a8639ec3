using TpcCma.Losses;
using TpcCma.Training;

namespace TpcCma.Core.Tests.Training;

public class TrainingSpecTests
{
    [Fact]
    public void Validate_ReturnsNoErrors_ForDefaults()
    {
        Assert.Empty(new TrainingSpec().Validate());
    }

    [Theory]
    [InlineData("alpha_target", double.NaN)]
    [InlineData("alpha_target", 1.0)]
    [InlineData("alpha_target", -0.1)]
    [InlineData("lambda_dist", double.PositiveInfinity)]
    [InlineData("lambda_cov", -1.0)]
    [InlineData("w_max", 0.0)]
    [InlineData("p1", 1.5)]
    [InlineData("plateau_tol", 0.0)]
    [InlineData("ema", 1.0)]
    [InlineData("lr", 0.0)]
    [InlineData("lr", double.NaN)]
    [InlineData("warmup_fraction", -0.01)]
    [InlineData("weight_decay", double.NegativeInfinity)]
    [InlineData("grad_clip", -1.0)]
    [InlineData("beta2", 1.0)]
    [InlineData("eps", 0.0)]
    [InlineData("fixed_logit_scale", 150.0)]
    [InlineData("lambda_geom", -0.5)]
    [InlineData("lambda_unif", double.NaN)]
    [InlineData("negatives_beta", -1.0)]
    public void Validate_NamesField_WhenNumberIsInvalid(string field, double value)
    {
        var spec = field switch
        {
            "alpha_target" => new TrainingSpec { AlphaTarget = value },
            "lambda_dist" => new TrainingSpec { LambdaDist = value },
            "lambda_cov" => new TrainingSpec { LambdaCov = value },
            "w_max" => new TrainingSpec { WMax = value },
            "p1" => new TrainingSpec { P1 = value },
            "plateau_tol" => new TrainingSpec { PlateauTol = value },
            "ema" => new TrainingSpec { Ema = value },
            "lr" => new TrainingSpec { Lr = value },
            "warmup_fraction" => new TrainingSpec { WarmupFraction = value },
            "weight_decay" => new TrainingSpec { WeightDecay = value },
            "grad_clip" => new TrainingSpec { GradClip = value },
            "beta2" => new TrainingSpec { Beta2 = value },
            "eps" => new TrainingSpec { Eps = value },
            "fixed_logit_scale" => new TrainingSpec { FixedLogitScale = value },
            "lambda_geom" => new TrainingSpec { LambdaGeom = value },
            "lambda_unif" => new TrainingSpec { LambdaUnif = value },
            "negatives_beta" => new TrainingSpec { NegativesBeta = value },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
        var errors = spec.Validate();
        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void Validate_NamesEveryInvalidField_AtOnce()
    {
        var spec = new TrainingSpec
        {
            Steps = 0, BatchSize = 1, PlateauWindow = 0, LastK = 0, CheckpointEvery = 0, LogEvery = -1, Seed = -3,
            P1 = 0.1, P1Min = 0.2, P2 = 0.95, Model = " ",
            Eval = new EvalSpec { TrainSample = -1, PromptTemplates = ["a photo"] },
        };
        Assert.Equal(
            new[] { "batch_size", "checkpoint_every", "eval.prompt_templates", "eval.train_sample", "last_k", "log_every",
                    "model", "p1_min", "p2", "plateau_window", "seed", "steps" },
            spec.Validate().Keys.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void FromJson_ReadsSnakeCaseAndKeepsDefaults()
    {
        var spec = TrainingSpec.FromJson("""{"kind": "pretrain", "alpha_target": 0.05, "trainable": "last_k", "logit_scale": "fixed", "eval": {"train_sample": 10}}""");
        Assert.Equal(JobKind.Pretrain, spec.Kind);
        Assert.Equal(0.05, spec.AlphaTarget);
        Assert.Equal(0.0, spec.EffectiveAlphaTarget);
        Assert.Equal(TrainableSet.LastK, spec.Trainable);
        Assert.Equal(LogitScaleMode.Fixed, spec.LogitScale);
        Assert.Equal(10, spec.Eval.TrainSample);
        Assert.Equal(["a photo of a {}.", "{}"], spec.Eval.PromptTemplates);
        Assert.Equal(0.35, spec.P2);
    }

    [Fact]
    public void ToJson_RoundTrips()
    {
        var spec = new TrainingSpec { AlphaTarget = 0.25, Trainable = TrainableSet.Projections, Seed = 7 };
        var json = spec.ToJson();
        Assert.Contains("\"alpha_target\": 0.25", json);
        Assert.Contains("\"trainable\": \"projections\"", json);
        var back = TrainingSpec.FromJson(json);
        Assert.Equal(json, back.ToJson());
    }

    [Fact]
    public void FromJson_ReadsCmaVariantsAndNegatives_AndRoundTrips()
    {
        Assert.Equal(CmaVariant.Pairwise, new TrainingSpec().Cma);
        Assert.Equal(NegativeWeighting.Uniform, new TrainingSpec().Negatives);
        var spec = TrainingSpec.FromJson("""{"cma": "pairwise+geometry", "negatives": "reweighted", "negatives_beta": 1.5, "lambda_geom": 0.3, "lambda_unif": 0.2}""");
        Assert.Equal(new ObjectiveOptions(CmaVariant.PairwiseGeometry, 1.0, 0.0, 0.3, 0.2, NegativeWeighting.Reweighted, 1.5, 100.0), spec.Objective);
        Assert.Empty(spec.Validate());
        var json = spec.ToJson();
        Assert.Contains("\"cma\": \"pairwise+geometry\"", json);
        Assert.Contains("\"negatives\": \"reweighted\"", json);
        Assert.Equal(json, TrainingSpec.FromJson(json).ToJson());
        Assert.Equal(CmaVariant.Geometry, TrainingSpec.FromJson("""{"cma": "geometry"}""").Cma);
    }

    [Fact]
    public void Validate_GeometryWithNothingWeighted_NamesLambdaGeom()
    {
        Assert.Equal(["lambda_geom"], new TrainingSpec { Cma = CmaVariant.Geometry, LambdaGeom = 0 }.Validate().Keys);
        Assert.Empty(new TrainingSpec { Cma = CmaVariant.Geometry, LambdaGeom = 0, LambdaUnif = 0.1 }.Validate());
    }

    [Theory]
    [InlineData("""{"cma": "pairwise+geometry "}""", "pairwise, geometry, pairwise+geometry")]
    [InlineData("""{"cma": "centroid"}""", "$.cma")]
    [InlineData("""{"cma": 1}""", "$.cma")]
    [InlineData("""{"negatives": "hard"}""", "$.negatives")]
    [InlineData("""{"alpha_targt": 0.5}""", "alpha_targt")]
    [InlineData("""{"kind": "finetune"}""", "kind")]
    [InlineData("""{"steps": "many"}""", "steps")]
    [InlineData("""{"steps": 10""", "")]
    public void FromJson_ThrowsNamingTheProblem_WhenJsonIsNotASpec(string json, string mentioned)
    {
        var ex = Assert.Throws<InvalidDataException>(() => TrainingSpec.FromJson(json));
        Assert.Contains(mentioned, ex.Message);
    }

    [Fact]
    public void FromJson_ReadsAugmentation_AndValidateNamesItsFields()
    {
        Assert.Null(new TrainingSpec().Augmentation);
        var spec = TrainingSpec.FromJson("""{"kind": "pretrain", "augmentation": {"min_scale": 0.7, "max_scale": 1.0}}""");
        Assert.Equal(new TpcCma.Data.Augmentation(0.7, 1.0, HorizontalFlip: false), spec.Augmentation);
        Assert.Empty(spec.Validate());

        var bad = spec with { Augmentation = new TpcCma.Data.Augmentation(0.9, 0.5) };
        Assert.Contains("augmentation.min_scale", bad.Validate().Keys);
        Assert.Contains("augmentation.min_scale", (spec with { Augmentation = new TpcCma.Data.Augmentation(0, 1) }).Validate().Keys);
    }
}
