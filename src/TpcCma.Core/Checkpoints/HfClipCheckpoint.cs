using System.Text.Json.Nodes;
using TorchSharp;
using TpcCma.Model;
using TpcCma.Tokenization;
using static TorchSharp.torch;

namespace TpcCma.Checkpoints;

/// <summary>
/// A Hugging Face CLIP folder: <c>config.json</c>, <c>model.safetensors</c> (<c>CLIPModel</c> keys), <c>vocab.json</c>,
/// <c>merges.txt</c>, <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>, <c>preprocessor_config.json</c>.
/// Weights are converted to and from the OpenAI layout with <see cref="HfClipKeyMap"/>.
/// </summary>
public static class HfClipCheckpoint
{
    public const string WeightsFile = "model.safetensors";

    /// <summary>True if <paramref name="directory"/> looks like an HF CLIP folder (has config.json and model.safetensors).</summary>
    public static bool IsHfDirectory(string directory) =>
        File.Exists(Path.Combine(directory, "config.json")) && File.Exists(Path.Combine(directory, WeightsFile));

    /// <summary>The model of an HF CLIP folder (float32, CPU). Throws one error listing every key problem.</summary>
    public static ClipModel Load(string directory)
    {
        var config = HfClipConfig.Read(directory);
        var path = Path.Combine(directory, WeightsFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing", path);
        using var file = Safetensors.Read(path);
        var model = new ClipModel(config);
        try
        {
            using var scope = NewDisposeScope();
            StateDict.LoadStrict(model, ToOpenAi(file.Tensors, model, path), path);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>
    /// Converts HF-keyed tensors to the OpenAI keys of <paramref name="model"/>. Position-id buffers are checked to be
    /// <c>arange</c> and dropped. Missing, unexpected and mis-shaped HF keys are reported together.
    /// </summary>
    public static Dictionary<string, Tensor> ToOpenAi(IReadOnlyDictionary<string, Tensor> hf, ClipModel model, string source)
    {
        var targets = model.state_dict();
        var mappings = HfClipKeyMap.For(targets.Keys);
        var (missing, misShaped) = (new List<string>(), new List<string>());
        foreach (var m in mappings)
            foreach (var key in m.HfKeys)
            {
                var expected = m.HfShape(targets[m.OpenAiKey].shape);
                if (!hf.TryGetValue(key, out var t)) missing.Add(key);
                else if (!t.shape.SequenceEqual(expected)) misShaped.Add($"{key} (file [{string.Join(", ", t.shape)}], expected [{string.Join(", ", expected)}])");
            }
        var known = mappings.SelectMany(m => m.HfKeys).Concat(HfClipKeyMap.PositionIdKeys).ToHashSet(StringComparer.Ordinal);
        var unexpected = hf.Keys.Where(k => !known.Contains(k)).ToList();
        foreach (var key in HfClipKeyMap.PositionIdKeys)
            if (hf.TryGetValue(key, out var ids) && !IsArange(ids)) misShaped.Add($"{key} (not arange(0, N) of shape [1, N])");

        StateDict.ThrowIfAny($"{source} is not a CLIPModel state dict for this config", missing, unexpected, misShaped);
        return mappings.ToDictionary(m => m.OpenAiKey, m => m.FromHf(m.HfKeys.Select(k => hf[k]).ToList()), StringComparer.Ordinal);
    }

    /// <summary>The HF-keyed tensors of <paramref name="model"/> (no position-id buffers, as current transformers saves).</summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> ToHf(ClipModel model)
    {
        var state = model.state_dict();
        return HfClipKeyMap.For(state.Keys).SelectMany(m => m.ToHf(state[m.OpenAiKey]));
    }

    /// <summary>Writes the whole HF folder for <paramref name="model"/> and <paramref name="tokenizer"/>.</summary>
    public static void Save(ClipModel model, ClipTokenizer tokenizer, string directory)
    {
        if (tokenizer.VocabSize != model.Config.VocabSize)
            throw new ArgumentException($"tokenizer has {tokenizer.VocabSize} tokens but the model's vocab_size is {model.Config.VocabSize}");
        Directory.CreateDirectory(directory);
        using (var scope = NewDisposeScope())
            Safetensors.Write(Path.Combine(directory, WeightsFile), ToHf(model).ToList(), new Dictionary<string, string> { ["format"] = "pt" });
        HfClipConfig.Write(model.Config, directory, tokenizer.EndOfTextId, tokenizer.StartOfTextId);
        tokenizer.Save(directory);
        var specials = new JsonObject
        {
            ["bos_token"] = ClipTextCleaner.StartOfText, ["eos_token"] = ClipTextCleaner.EndOfText,
            ["unk_token"] = ClipTextCleaner.EndOfText, ["pad_token"] = ClipTextCleaner.EndOfText,
        };
        var options = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(directory, "special_tokens_map.json"), specials.ToJsonString(options));
        var tokenizerConfig = (JsonObject)specials.DeepClone();
        tokenizerConfig["model_max_length"] = model.Config.ContextLength;
        tokenizerConfig["do_lower_case"] = true;
        tokenizerConfig["tokenizer_class"] = "CLIPTokenizer";
        tokenizerConfig["errors"] = "replace";
        tokenizerConfig["add_prefix_space"] = false;
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), tokenizerConfig.ToJsonString(options));
    }

    private static bool IsArange(Tensor ids)
    {
        if (ids.dim() != 2 || ids.shape[0] != 1) return false;
        using var expected = arange(ids.shape[1], dtype: ScalarType.Int64).unsqueeze(0);
        using var asLong = ids.to(ScalarType.Int64);
        using var same = asLong.eq(expected).all();
        return same.item<bool>();
    }
}
