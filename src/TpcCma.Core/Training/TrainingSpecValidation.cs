using System.Text.Json;

namespace TpcCma.Training;

/// <summary>The rules behind <see cref="TrainingSpec.Validate"/>, one line per field.</summary>
internal static class TrainingSpecValidation
{
    public static IReadOnlyDictionary<string, string[]> Validate(TrainingSpec s)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Fail(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
            list.Add(message);
        }
        void Range(string field, double value, double min, double max, bool minOpen = false, bool maxOpen = false)
        {
            if (!double.IsFinite(value)) { Fail(field, $"must be a finite number, got {value}"); return; }
            if (minOpen ? value <= min : value < min) Fail(field, $"must be {(minOpen ? ">" : ">=")} {min}, got {value}");
            if (maxOpen ? value >= max : value > max) Fail(field, $"must be {(maxOpen ? "<" : "<=")} {max}, got {value}");
        }
        void AtLeast(string field, long value, long min)
        {
            if (value < min) Fail(field, $"must be >= {min}, got {value}");
        }

        if (!Enum.IsDefined(s.Kind)) Fail("kind", $"must be align, pretrain or evaluate, got {(int)s.Kind}");
        if (string.IsNullOrWhiteSpace(s.Model)) Fail("model", "must name an architecture preset");
        foreach (var (field, value) in new[] { ("init_weights", s.InitWeights), ("tokenizer", s.Tokenizer), ("dataset", s.Dataset) })
            if (value is not null && string.IsNullOrWhiteSpace(value)) Fail(field, "must be a path or absent");
        if (string.IsNullOrWhiteSpace(s.TrainSplit)) Fail("train_split", "must name a split");

        Range("alpha_target", s.AlphaTarget, 0, 1, maxOpen: true);
        Range("lambda_dist", s.LambdaDist, 0, double.MaxValue);
        Range("lambda_cov", s.LambdaCov, 0, double.MaxValue);
        Range("w_max", s.WMax, 0, double.MaxValue, minOpen: true);
        if (!Enum.IsDefined(s.Cma)) Fail("cma", $"must be one of {CmaVariantJsonConverter.Accepted}, got {(int)s.Cma}");
        Range("lambda_geom", s.LambdaGeom, 0, double.MaxValue);
        Range("lambda_unif", s.LambdaUnif, 0, double.MaxValue);
        if (!Enum.IsDefined(s.Negatives)) Fail("negatives", $"must be uniform or reweighted, got {(int)s.Negatives}");
        Range("negatives_beta", s.NegativesBeta, 0, double.MaxValue);
        if (!Enum.IsDefined(s.Method)) Fail("method", $"must be tpc_cma, m2mix, clip_refine or align_clip, got {(int)s.Method}");
        Range("m2mix_weight", s.M2mixWeight, 0, double.MaxValue);
        Range("clip_refine_alpha", s.ClipRefineAlpha, 0, 1);
        Range("clip_refine_rafa_weight", s.ClipRefineRafaWeight, 0, double.MaxValue);
        Range("align_clip_weight", s.AlignClipWeight, 0, double.MaxValue);
        // The peer methods fine-tune a given model; only this project's method also pre-trains (at alpha = 0).
        if (s.Method != TpcCma.Losses.AlignMethod.TpcCma && Enum.IsDefined(s.Method) && s.Kind != JobKind.Align)
            Fail("method", $"{JsonNamingPolicy.SnakeCaseLower.ConvertName(s.Method.ToString())} fine-tunes: it needs kind align, got {s.Kind.ToString().ToLowerInvariant()}");
        // A geometry variant whose only term is weighted to zero has nothing to align with.
        if (s.Cma == TpcCma.Losses.CmaVariant.Geometry && s.LambdaGeom == 0 && s.LambdaCov == 0 && s.LambdaUnif == 0)
            Fail("lambda_geom", "must be > 0 when cma is geometry");

        Range("p1", s.P1, 0, 1);
        Range("p1_min", s.P1Min, 0, 1);
        Range("p2", s.P2, 0, 1);
        // The joint rules only once each fraction is itself valid, so one bad number names one field.
        static bool Fraction(double f) => f is >= 0 and <= 1;
        if (Fraction(s.P1) && Fraction(s.P1Min) && s.P1Min > s.P1) Fail("p1_min", $"must not exceed p1 ({s.P1}), got {s.P1Min}");
        if (Fraction(s.P1) && Fraction(s.P2) && s.P1 + s.P2 > 1) Fail("p2", $"p1 + p2 must not exceed 1, got {s.P1 + s.P2}");
        Range("plateau_tol", s.PlateauTol, 0, double.MaxValue, minOpen: true);
        AtLeast("plateau_window", s.PlateauWindow, 1);
        Range("ema", s.Ema, 0, 1, maxOpen: true);

        AtLeast("steps", s.Steps, 1);
        AtLeast("batch_size", s.BatchSize, 2);   // a contrastive batch needs negatives
        Range("lr", s.Lr, 0, double.MaxValue, minOpen: true);
        Range("warmup_fraction", s.WarmupFraction, 0, 1, maxOpen: true);
        Range("weight_decay", s.WeightDecay, 0, double.MaxValue);
        Range("grad_clip", s.GradClip, 0, double.MaxValue, minOpen: true);
        Range("beta1", s.Beta1, 0, 1, maxOpen: true);
        Range("beta2", s.Beta2, 0, 1, maxOpen: true);
        Range("eps", s.Eps, 0, double.MaxValue, minOpen: true);
        if (!Enum.IsDefined(s.Trainable)) Fail("trainable", $"must be all, projections or last_k, got {(int)s.Trainable}");
        AtLeast("last_k", s.LastK, 1);
        if (s.Augmentation is { } augmentation)
        {
            Range("augmentation.min_scale", augmentation.MinScale, 0, 1, minOpen: true);
            Range("augmentation.max_scale", augmentation.MaxScale, 0, 1, minOpen: true);
            if (augmentation.MinScale > augmentation.MaxScale) Fail("augmentation.min_scale", $"must not exceed max_scale ({augmentation.MaxScale}), got {augmentation.MinScale}");
        }
        if (!Enum.IsDefined(s.LogitScale)) Fail("logit_scale", $"must be learned or fixed, got {(int)s.LogitScale}");
        Range("fixed_logit_scale", s.FixedLogitScale, 1, 100);   // exp(logit_scale) in [1, 100]: logit_scale in [0, ln 100]

        if (s.Precision is { } precision && !Enum.IsDefined(precision)) Fail("precision", $"must be fp32 or bf16, got {(int)precision}");

        AtLeast("seed", s.Seed, 0);
        AtLeast("checkpoint_every", s.CheckpointEvery, 1);
        AtLeast("log_every", s.LogEvery, 1);
        if (s.Eval is null) Fail("eval", "must be an object");
        else
        {
            AtLeast("eval.train_sample", s.Eval.TrainSample, 0);
            AtLeast("eval.captioning_steps", s.Eval.CaptioningSteps, 1);
            if (s.Eval.CaptioningSeeds is < 1 or > 10) Fail("eval.captioning_seeds", $"must be from 1 to 10, got {s.Eval.CaptioningSeeds}");
            AtLeast("eval.max_pairs", s.Eval.MaxPairs, 2);
            if (s.Eval.PromptTemplates is not { Count: > 0 }) Fail("eval.prompt_templates", "must list at least one template");
            else if (s.Eval.PromptTemplates.Any(t => t is null || !t.Contains("{}", StringComparison.Ordinal)))
                Fail("eval.prompt_templates", "every template must contain {} for the class name");
        }
        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }
}
