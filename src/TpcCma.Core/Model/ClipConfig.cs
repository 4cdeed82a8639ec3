using System.Text.Json;
using System.Text.Json.Serialization;

namespace TpcCma.Model;

/// <summary>
/// Architecture of an OpenAI/OpenCLIP ViT CLIP: the arguments of OpenAI's <c>CLIP(...)</c> constructor plus the
/// attention head count of the vision tower, the MLP activation and the image normalisation. JSON uses the
/// snake_case names of the OpenAI constructor (presets are files in <c>Model/Presets/</c>).
/// </summary>
public sealed record ClipConfig(
    int EmbedDim,
    int ImageResolution,
    int VisionLayers,
    int VisionWidth,
    int VisionPatchSize,
    int ContextLength,
    int VocabSize,
    int TransformerWidth,
    int TransformerHeads,
    int TransformerLayers)
{
    /// <summary>OpenAI's image normalisation, used when a config does not give one.</summary>
    public static readonly double[] OpenAiImageMean = [0.48145466, 0.4578275, 0.40821073];
    public static readonly double[] OpenAiImageStd = [0.26862954, 0.26130258, 0.27577711];

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Vision attention heads; OpenAI derives <c>vision_width / 64</c> when not given.</summary>
    public int? VisionHeads { get; init; }

    /// <summary><c>quick_gelu</c> (OpenAI weights: x * sigmoid(1.702 x)) or <c>gelu</c> (exact, erf).</summary>
    public string Activation { get; init; } = "quick_gelu";

    /// <summary>Per-channel mean and std of pixel normalisation (double, so HF files round-trip exactly).</summary>
    public double[]? ImageMean { get; init; }
    public double[]? ImageStd { get; init; }

    [JsonIgnore] public int VisionHeadCount => VisionHeads ?? VisionWidth / 64;
    [JsonIgnore] public int GridSize => ImageResolution / VisionPatchSize;
    [JsonIgnore] public double[] Mean => ImageMean ?? OpenAiImageMean;
    [JsonIgnore] public double[] Std => ImageStd ?? OpenAiImageStd;

    /// <summary>Throws <see cref="ArgumentException"/> naming every field that cannot build a model.</summary>
    public ClipConfig Validate()
    {
        var errors = new List<string>();
        void Positive(string name, int value) { if (value <= 0) errors.Add($"{name} must be positive, got {value}"); }
        Positive("embed_dim", EmbedDim);
        Positive("image_resolution", ImageResolution);
        Positive("vision_layers", VisionLayers);
        Positive("vision_width", VisionWidth);
        Positive("vision_patch_size", VisionPatchSize);
        Positive("context_length", ContextLength);
        Positive("vocab_size", VocabSize);
        Positive("transformer_width", TransformerWidth);
        Positive("transformer_heads", TransformerHeads);
        Positive("transformer_layers", TransformerLayers);
        if (VisionPatchSize > 0 && ImageResolution % VisionPatchSize != 0)
            errors.Add($"image_resolution {ImageResolution} is not a multiple of vision_patch_size {VisionPatchSize}");
        if (VisionHeadCount <= 0 || VisionWidth % Math.Max(1, VisionHeadCount) != 0)
            errors.Add($"vision_width {VisionWidth} is not divisible by vision_heads {VisionHeadCount}");
        if (TransformerHeads > 0 && TransformerWidth % TransformerHeads != 0)
            errors.Add($"transformer_width {TransformerWidth} is not divisible by transformer_heads {TransformerHeads}");
        if (Activation is not ("quick_gelu" or "gelu"))
            errors.Add($"activation must be quick_gelu or gelu, got '{Activation}'");
        foreach (var (name, values) in new[] { ("image_mean", ImageMean), ("image_std", ImageStd) })
            if (values is not null && values.Length != 3) errors.Add($"{name} must have 3 values, got {values.Length}");
        if (ImageStd is not null && ImageStd.Any(s => s <= 0)) errors.Add("image_std values must be positive");
        return errors.Count == 0 ? this : throw new ArgumentException("invalid CLIP config: " + string.Join("; ", errors));
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Same architecture and normalisation: defaults written out count as equal to defaults left out.</summary>
    public bool Equals(ClipConfig? other) => other is not null && Canonical() == other.Canonical();

    public override int GetHashCode() => Canonical().GetHashCode(StringComparison.Ordinal);

    private string Canonical() =>
        JsonSerializer.Serialize(this with { VisionHeads = VisionHeadCount, ImageMean = Mean, ImageStd = Std }, JsonOptions);

    public static ClipConfig FromJson(string json, string source)
    {
        try
        {
            return (JsonSerializer.Deserialize<ClipConfig>(json, JsonOptions)
                ?? throw new InvalidDataException($"{source}: empty CLIP config")).Validate();
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source}: not a CLIP config: {ex.Message}");
        }
    }

    /// <summary>Names of the presets shipped inside the library (from <c>Model/Presets/*.json</c>).</summary>
    public static IReadOnlyList<string> PresetNames { get; } = typeof(ClipConfig).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(PresetPrefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
        .Select(n => n[PresetPrefix.Length..^".json".Length])
        .Order(StringComparer.Ordinal)
        .ToList();

    public static bool IsPreset(string name) => PresetNames.Contains(name, StringComparer.Ordinal);

    /// <summary>Loads the preset <paramref name="name"/> (e.g. <c>ViT-B-32</c>, <c>tiny</c>).</summary>
    public static ClipConfig Preset(string name)
    {
        if (!IsPreset(name))
            throw new ArgumentException($"unknown model preset '{name}' (known: {string.Join(", ", PresetNames)})");
        using var stream = typeof(ClipConfig).Assembly.GetManifestResourceStream(PresetPrefix + name + ".json")!;
        using var reader = new StreamReader(stream);
        return FromJson(reader.ReadToEnd(), $"preset {name}");
    }

    private const string PresetPrefix = "presets/";
}
