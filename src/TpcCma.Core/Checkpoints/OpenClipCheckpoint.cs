using System.Text.RegularExpressions;
using TpcCma.Model;
using static TorchSharp.torch;

namespace TpcCma.Checkpoints;

/// <summary>
/// Weights in the OpenAI/OpenCLIP key layout (<c>visual.conv1.weight</c>, <c>transformer.resblocks.0.attn.in_proj_weight</c>, ...)
/// as a .safetensors file. The architecture comes from a given config, else from the file's <c>config</c> metadata,
/// else from the tensor shapes as OpenAI's <c>build_model</c> infers it.
/// </summary>
public static partial class OpenClipCheckpoint
{
    /// <summary>Integer entries OpenAI's JIT archives carry beside the weights; <c>build_model</c> drops them too.</summary>
    private static readonly string[] NonWeightKeys = ["input_resolution", "context_length", "vocab_size"];

    public const string ConfigMetadataKey = "config";

    /// <summary>Reads <paramref name="path"/> into a new model (float32, CPU).</summary>
    public static ClipModel Load(string path, ClipConfig? config = null)
    {
        using var file = Safetensors.Read(path);
        var weights = file.Tensors.Where(kv => !NonWeightKeys.Contains(kv.Key)).ToDictionary();
        config ??= ConfigFromMetadata(file.Metadata, path) ?? InferConfig(weights.ToDictionary(kv => kv.Key, kv => kv.Value.shape), path);
        var model = new ClipModel(config);
        try
        {
            StateDict.LoadStrict(model, weights, path);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>The architecture of a file (metadata, else shapes) without reading its tensors.</summary>
    public static ClipConfig ReadConfig(string path) =>
        ConfigFromMetadata(Safetensors.ReadMetadata(path), path)
        ?? InferConfig(Safetensors.ReadShapes(path).ToDictionary(kv => kv.Key, kv => kv.Value.Shape), path);

    /// <summary>Writes the model's state dict in OpenAI key order of the model, with the config as metadata.</summary>
    public static void Save(ClipModel model, string path)
    {
        var metadata = new Dictionary<string, string> { ["format"] = "pt", [ConfigMetadataKey] = model.Config.ToJson() };
        Safetensors.Write(path, model.state_dict(), metadata);
    }

    /// <summary>The config stored in the file's metadata by <see cref="Save"/> (or an OpenAI constructor-args JSON), if any.</summary>
    public static ClipConfig? ConfigFromMetadata(IReadOnlyDictionary<string, string> metadata, string source) =>
        metadata.TryGetValue(ConfigMetadataKey, out var json) ? ClipConfig.FromJson(json, $"{source} metadata '{ConfigMetadataKey}'") : null;

    /// <summary>
    /// OpenAI <c>build_model</c>'s inference from shapes. Head counts do not show in shapes: they are taken as
    /// width / 64 (OpenAI's rule); the activation as quick_gelu (every OpenAI model uses it).
    /// </summary>
    public static ClipConfig InferConfig(IReadOnlyDictionary<string, long[]> shapes, string source)
    {
        long[] Shape(string key) => shapes.TryGetValue(key, out var s)
            ? s
            : throw new InvalidDataException($"{source}: not an OpenAI/OpenCLIP ViT CLIP checkpoint (no '{key}')");
        int Layers(Regex pattern) => shapes.Keys.Select(k => pattern.Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value)).Distinct().Count();

        var conv = Shape("visual.conv1.weight");
        var visionWidth = (int)conv[0];
        var patch = (int)conv[^1];
        var grid = (int)Math.Round(Math.Sqrt(Shape("visual.positional_embedding")[0] - 1));
        var textWidth = (int)Shape("ln_final.weight")[0];
        return new ClipConfig(
            EmbedDim: (int)Shape("text_projection")[1],
            ImageResolution: patch * grid,
            VisionLayers: Layers(VisionBlock()),
            VisionWidth: visionWidth,
            VisionPatchSize: patch,
            ContextLength: (int)Shape("positional_embedding")[0],
            VocabSize: (int)Shape("token_embedding.weight")[0],
            TransformerWidth: textWidth,
            TransformerHeads: Math.Max(1, textWidth / 64),
            TransformerLayers: Layers(TextBlock())).Validate();
    }

    [GeneratedRegex(@"^visual\.transformer\.resblocks\.(\d+)\.")]
    private static partial Regex VisionBlock();

    [GeneratedRegex(@"^transformer\.resblocks\.(\d+)\.")]
    private static partial Regex TextBlock();
}
