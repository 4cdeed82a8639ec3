using System.Text.Json;
using System.Text.Json.Serialization;
using TpcCma.Curriculum;
using TpcCma.Data;
using TpcCma.Losses;
using TpcCma.Model;

namespace TpcCma.Training;

/// <summary>What a job does: fine-tune with the curriculum, pre-train contrastively (alpha = 0 throughout), or only evaluate.</summary>
public enum JobKind { Align, Pretrain, Evaluate }

/// <summary>Which parameters the optimiser moves (chosen by state_dict name).</summary>
public enum TrainableSet { All, Projections, LastK }

/// <summary>The temperature: learned (trainable <c>logit_scale</c>) or fixed (frozen at ln of a given value).</summary>
public enum LogitScaleMode { Learned, Fixed }

/// <summary>Evaluation settings of a job; the evaluation itself runs in the host (docs/METHOD.md, "Evaluation protocol").</summary>
public sealed record EvalSpec
{
    /// <summary>Evaluate the base model, at each phase boundary and at the end (otherwise only base and end).</summary>
    public bool AtPhaseBoundaries { get; init; } = true;
    /// <summary>How many training-split samples to evaluate beside the held-out split (0: none).</summary>
    public int TrainSample { get; init; } = 512;
    /// <summary>Zero-shot prompt templates; <c>{}</c> is replaced by the class name.</summary>
    public IReadOnlyList<string> PromptTemplates { get; init; } = ["a photo of a {}.", "{}"];
    /// <summary>Run the evaluation protocol at all (off: training only, e.g. for benchmarks).</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Zero-shot captioning CIDEr-D (a small decoder is trained per evaluation: the slowest part); base and final only.</summary>
    public bool Captioning { get; init; } = true;
    /// <summary>The caption decoder's budget of optimiser steps (it may stop earlier on held-out caption loss); the
    /// same for every model evaluated, so scores are comparable.</summary>
    public int CaptioningSteps { get; init; } = 300;
    /// <summary>Caption decoders trained per evaluation, each with its own seed; CIDEr-D is their mean with a 95 % interval.</summary>
    public int CaptioningSeeds { get; init; } = 3;
    /// <summary>At most this many held-out pairs are evaluated (a deterministic subset).</summary>
    public int MaxPairs { get; init; } = 4000;
}

/// <summary>
/// One job, immutable: what the CLI reads from <c>--spec</c>, what the service stores and hands to the
/// trainer unchanged. JSON is snake_case; defaults are those of docs/METHOD.md. Call <see cref="Validate"/>
/// where a spec enters and refuse it when any field is named.
/// </summary>
public sealed record TrainingSpec
{
    public JobKind Kind { get; init; } = JobKind.Align;
    /// <summary>Architecture preset name (src/TpcCma.Core/Model/Presets/NAME.json).</summary>
    public string Model { get; init; } = "tiny";
    /// <summary>Weights to start from; null starts from random initialisation (pre-training).</summary>
    public string? InitWeights { get; init; }
    /// <summary>Tokenizer (vocab.json + merges.txt folder, or OpenAI merges .gz) when the model reference brings none.</summary>
    public string? Tokenizer { get; init; }
    /// <summary>Dataset location: a folder, manifest or archive the data loader opens.</summary>
    public string? Dataset { get; init; }
    /// <summary>The split trained on; a dataset without splits is used whole.</summary>
    public string TrainSplit { get; init; } = "train";

    // The objective (METHOD.md "Losses")
    public double AlphaTarget { get; init; } = 0.5;
    public double LambdaDist { get; init; } = 1.0;
    public double LambdaCov { get; init; }
    public double WMax { get; init; } = 100.0;
    /// <summary>The alignment term: pairwise, geometry or pairwise+geometry (METHOD.md "CMA variants").</summary>
    [JsonConverter(typeof(CmaVariantJsonConverter))]
    public CmaVariant Cma { get; init; } = CmaVariant.Pairwise;
    /// <summary>Weight of the geometry term L_geom in the geometry variants.</summary>
    public double LambdaGeom { get; init; } = 1.0;
    /// <summary>Weight of the uniformity term inside L_cma (spread preservation); 0: off.</summary>
    public double LambdaUnif { get; init; }
    /// <summary>Negatives of the contrastive term: uniform (CLIP) or reweighted by hardness (HN-NCE).</summary>
    public NegativeWeighting Negatives { get; init; } = NegativeWeighting.Uniform;
    /// <summary>Hardness beta of reweighted negatives; unused with uniform ones.</summary>
    public double NegativesBeta { get; init; } = 0.5;
    /// <summary>The fine-tuning method of an align job: tpc_cma (this project's) or a peer method, m2mix, clip_refine or align_clip (METHOD.md "Peer methods").</summary>
    public AlignMethod Method { get; init; } = AlignMethod.TpcCma;
    /// <summary>Weight of the m^2-Mix term when method is m2mix.</summary>
    public double M2mixWeight { get; init; } = 1.0;
    /// <summary>clip_refine: weight of the ground-truth one-hot in the hybrid distillation targets (the rest: the frozen model's).</summary>
    public double ClipRefineAlpha { get; init; } = 0.5;
    /// <summary>clip_refine: weight of the random feature alignment term.</summary>
    public double ClipRefineRafaWeight { get; init; } = 1.0;
    /// <summary>align_clip: weight of the intra-modality separation term beside CLIP's loss (the authors' beta).</summary>
    public double AlignClipWeight { get; init; } = 0.5;

    // The curriculum (METHOD.md "The three-phase curriculum")
    public double P1 { get; init; } = 0.15;
    public double P1Min { get; init; } = 0.05;
    public double P2 { get; init; } = 0.35;
    public double PlateauTol { get; init; } = 0.1;
    public int PlateauWindow { get; init; } = 50;
    public double Ema { get; init; } = 0.98;

    // Optimisation
    public int Steps { get; init; } = 450;
    public int BatchSize { get; init; } = 64;
    public double Lr { get; init; } = 1e-5;
    public double WarmupFraction { get; init; } = 0.05;
    public double WeightDecay { get; init; } = 0.1;
    public double GradClip { get; init; } = 1.0;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.98;
    public double Eps { get; init; } = 1e-6;
    public TrainableSet Trainable { get; init; } = TrainableSet.All;
    /// <summary>Blocks per tower trained when <see cref="Trainable"/> is last_k.</summary>
    public int LastK { get; init; } = 1;
    /// <summary>
    /// The loader's training augmentation (random resized crop, optional horizontal flip); null trains on the images as
    /// they are. With it, preprocessed images are not cached: each epoch draws new crops.
    /// </summary>
    public Augmentation? Augmentation { get; init; }
    public LogitScaleMode LogitScale { get; init; } = LogitScaleMode.Learned;
    /// <summary>The temperature exp(logit_scale) when <see cref="LogitScale"/> is fixed; at most 100.</summary>
    public double FixedLogitScale { get; init; } = 100.0;

    /// <summary>
    /// fp32 or bf16 (autocast) for training, evaluation and embedding; absent: bf16 on CUDA, fp32 on CPU. bf16
    /// works on CPU too (measured: same results within bf16 rounding), it is only not the default there.
    /// </summary>
    public Precision? Precision { get; init; }

    // Run control
    public long Seed { get; init; }
    public int CheckpointEvery { get; init; } = 100;
    public int LogEvery { get; init; } = 10;
    public EvalSpec Eval { get; init; } = new();

    /// <summary>alpha_target as the run uses it: pre-training is contrastive only.</summary>
    [JsonIgnore] public double EffectiveAlphaTarget => Kind == JobKind.Pretrain ? 0.0 : AlphaTarget;

    [JsonIgnore] public ObjectiveOptions Objective => new(Cma, LambdaDist, LambdaCov, LambdaGeom, LambdaUnif, Negatives, NegativesBeta, WMax, Method, M2mixWeight,
        ClipRefineAlpha, ClipRefineRafaWeight, AlignClipWeight);

    [JsonIgnore] public CurriculumOptions Curriculum => new(Steps, EffectiveAlphaTarget, P1, P1Min, P2, PlateauTol, PlateauWindow, Ema);

    [JsonIgnore] public LrSchedule LrSchedule =>
        new(Lr, Steps, (long)Math.Round(WarmupFraction * Steps, MidpointRounding.AwayFromZero));

    /// <summary>snake_case names and enum values; unknown fields are an error (a typo must not silently become a default).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
    };

    /// <exception cref="InvalidDataException">The text is not a spec (bad JSON, unknown field, wrong type); the message says where.</exception>
    public static TrainingSpec FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingSpec>(json, JsonOptions) ?? throw new InvalidDataException("the spec is null");
        }
        catch (JsonException ex)
        {
            // A converter's own message carries no path; System.Text.Json's default messages already do.
            var where = ex.Path is { } path && !ex.Message.Contains(path, StringComparison.Ordinal) ? $" (at {path})" : "";
            throw new InvalidDataException($"invalid job spec: {ex.Message}{where}", ex);
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Every invalid field (snake_case name, nested as <c>eval.train_sample</c>) with its errors; empty when valid.</summary>
    public IReadOnlyDictionary<string, string[]> Validate() => TrainingSpecValidation.Validate(this);
}
