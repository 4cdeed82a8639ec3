using System.Text.Json;
using System.Text.Json.Nodes;
using TpcCma.Model;

namespace TpcCma.Checkpoints;

/// <summary>
/// Hugging Face <c>CLIPConfig</c> (<c>config.json</c>) and <c>CLIPImageProcessor</c> (<c>preprocessor_config.json</c>)
/// to and from <see cref="ClipConfig"/>. Fields a file leaves out take transformers' defaults.
/// </summary>
public static class HfClipConfig
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Reads <c>config.json</c> and, if present, <c>preprocessor_config.json</c> of an HF CLIP folder.</summary>
    public static ClipConfig Read(string directory)
    {
        var path = Path.Combine(directory, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"not a Hugging Face CLIP folder: {path} is missing", path);
        var root = ParseObject(path);
        var errors = new List<string>();
        if (root["model_type"]?.GetValue<string>() is { } type && type != "clip")
            errors.Add($"model_type is '{type}', expected 'clip'");
        var text = (root["text_config"] ?? root["text_config_dict"])?.AsObject() ?? [];
        var vision = (root["vision_config"] ?? root["vision_config_dict"])?.AsObject() ?? [];
        int Int(JsonObject o, string key, int fallback) => o[key]?.GetValue<int>() ?? fallback;

        var textWidth = Int(text, "hidden_size", 512);
        var visionWidth = Int(vision, "hidden_size", 768);
        Check(errors, "text_config.intermediate_size", Int(text, "intermediate_size", 2048), 4 * textWidth);
        Check(errors, "vision_config.intermediate_size", Int(vision, "intermediate_size", 3072), 4 * visionWidth);
        Check(errors, "vision_config.num_channels", Int(vision, "num_channels", 3), 3);
        foreach (var (name, o) in new[] { ("text_config", text), ("vision_config", vision) })
            if (o["layer_norm_eps"]?.GetValue<double>() is { } eps && Math.Abs(eps - 1e-5) > 1e-12)
                errors.Add($"{name}.layer_norm_eps is {eps}; only 1e-5 is supported");
        var textAct = text["hidden_act"]?.GetValue<string>() ?? "quick_gelu";
        var visionAct = vision["hidden_act"]?.GetValue<string>() ?? "quick_gelu";
        if (textAct != visionAct) errors.Add($"text hidden_act '{textAct}' differs from vision hidden_act '{visionAct}'");
        if (errors.Count > 0) throw new InvalidDataException($"{path}: {string.Join("; ", errors)}");

        var (mean, std) = ReadNormalisation(directory);
        return new ClipConfig(
            EmbedDim: root["projection_dim"]?.GetValue<int>() ?? Int(text, "projection_dim", 512),
            ImageResolution: Int(vision, "image_size", 224),
            VisionLayers: Int(vision, "num_hidden_layers", 12),
            VisionWidth: visionWidth,
            VisionPatchSize: Int(vision, "patch_size", 32),
            ContextLength: Int(text, "max_position_embeddings", 77),
            VocabSize: Int(text, "vocab_size", 49408),
            TransformerWidth: textWidth,
            TransformerHeads: Int(text, "num_attention_heads", 8),
            TransformerLayers: Int(text, "num_hidden_layers", 12))
        {
            VisionHeads = Int(vision, "num_attention_heads", 12),
            Activation = textAct,
            ImageMean = mean,
            ImageStd = std,
        }.Validate();
    }

    /// <summary>Writes <c>config.json</c> and <c>preprocessor_config.json</c> for <paramref name="config"/>.</summary>
    public static void Write(ClipConfig config, string directory, int eosTokenId, int bosTokenId)
    {
        var common = new JsonObject { ["layer_norm_eps"] = 1e-5, ["attention_dropout"] = 0.0, ["initializer_range"] = 0.02, ["initializer_factor"] = 1.0 };
        JsonObject Tower(string type, int width, int layers, int heads, params (string, JsonNode)[] extra)
        {
            var o = new JsonObject
            {
                ["model_type"] = type, ["hidden_size"] = width, ["intermediate_size"] = 4 * width, ["projection_dim"] = config.EmbedDim,
                ["num_hidden_layers"] = layers, ["num_attention_heads"] = heads, ["hidden_act"] = config.Activation,
            };
            foreach (var (k, v) in extra) o[k] = v;
            foreach (var (k, v) in common) o[k] = v!.DeepClone();
            return o;
        }
        var root = new JsonObject
        {
            ["architectures"] = new JsonArray("CLIPModel"),
            ["model_type"] = "clip",
            ["projection_dim"] = config.EmbedDim,
            ["logit_scale_init_value"] = 2.6592,
            ["initializer_factor"] = 1.0,
            ["torch_dtype"] = "float32",
            ["text_config"] = Tower("clip_text_model", config.TransformerWidth, config.TransformerLayers, config.TransformerHeads,
                ("vocab_size", config.VocabSize), ("max_position_embeddings", config.ContextLength),
                ("bos_token_id", bosTokenId), ("eos_token_id", eosTokenId), ("pad_token_id", 1)),
            ["vision_config"] = Tower("clip_vision_model", config.VisionWidth, config.VisionLayers, config.VisionHeadCount,
                ("num_channels", 3), ("image_size", config.ImageResolution), ("patch_size", config.VisionPatchSize)),
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), root.ToJsonString(Indented));

        var size = config.ImageResolution;
        var processor = new JsonObject
        {
            ["crop_size"] = new JsonObject { ["height"] = size, ["width"] = size },
            ["do_center_crop"] = true, ["do_convert_rgb"] = true, ["do_normalize"] = true, ["do_rescale"] = true, ["do_resize"] = true,
            ["image_mean"] = new JsonArray(config.Mean.Select(v => (JsonNode)v).ToArray()),
            ["image_std"] = new JsonArray(config.Std.Select(v => (JsonNode)v).ToArray()),
            ["image_processor_type"] = "CLIPImageProcessor",
            ["processor_class"] = "CLIPProcessor",
            ["resample"] = 3,
            ["rescale_factor"] = 1.0 / 255,
            ["size"] = new JsonObject { ["shortest_edge"] = size },
        };
        File.WriteAllText(Path.Combine(directory, "preprocessor_config.json"), processor.ToJsonString(Indented));
    }

    private static (double[]? Mean, double[]? Std) ReadNormalisation(string directory)
    {
        var path = Path.Combine(directory, "preprocessor_config.json");
        if (!File.Exists(path)) return (null, null);
        var root = ParseObject(path);
        double[]? Values(string key) => root[key]?.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        return (Values("image_mean"), Values("image_std"));
    }

    private static void Check(List<string> errors, string name, int actual, int expected)
    {
        if (actual != expected) errors.Add($"{name} is {actual}; this architecture needs {expected}");
    }

    private static JsonObject ParseObject(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"{path}: empty JSON");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a JSON object: {ex.Message}");
        }
    }
}
