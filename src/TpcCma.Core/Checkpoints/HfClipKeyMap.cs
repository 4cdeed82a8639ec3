using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace TpcCma.Checkpoints;

/// <summary>How one OpenAI-layout tensor is stored in a Hugging Face <c>CLIPModel</c> state dict.</summary>
public enum HfTransform
{
    /// <summary>Same tensor under another name.</summary>
    Copy,
    /// <summary>OpenAI's <c>x @ P</c> projection [W, E] is HF's bias-free Linear weight [E, W].</summary>
    Transpose,
    /// <summary>OpenAI's packed <c>in_proj</c> [3W, ...] is HF's q, k, v tensors, split along dim 0 in that order.</summary>
    SplitQkv,
}

/// <summary>One OpenAI key, the HF key(s) holding it, and the transform between them.</summary>
public sealed record HfKeyMapping(string OpenAiKey, IReadOnlyList<string> HfKeys, HfTransform Transform)
{
    /// <summary>Shape each HF tensor must have, given the OpenAI tensor's shape.</summary>
    public long[] HfShape(long[] openAiShape) => Transform switch
    {
        HfTransform.Transpose => [.. openAiShape.Reverse()],
        HfTransform.SplitQkv => [openAiShape[0] / 3, .. openAiShape[1..]],
        _ => openAiShape,
    };

    /// <summary>The HF tensors for an OpenAI tensor (contiguous, new storage).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> ToHf(Tensor openAi) => Transform switch
    {
        HfTransform.Transpose => [KeyValuePair.Create(HfKeys[0], openAi.t().contiguous())],
        HfTransform.SplitQkv => openAi.chunk(3, 0).Select((part, i) => KeyValuePair.Create(HfKeys[i], part.contiguous())),
        _ => [KeyValuePair.Create(HfKeys[0], openAi.clone())],
    };

    /// <summary>The OpenAI tensor from its HF tensors, in <see cref="HfKeys"/> order.</summary>
    public Tensor FromHf(IReadOnlyList<Tensor> hf) => Transform switch
    {
        HfTransform.Transpose => hf[0].t().contiguous(),
        HfTransform.SplitQkv => cat(hf.ToArray(), 0),
        _ => hf[0].clone(),
    };
}

/// <summary>
/// The OpenAI/OpenCLIP to Hugging Face <c>CLIPModel</c> key mapping for ViT CLIP (transformers'
/// <c>convert_clip_original_pytorch_to_hf.py</c>; see refdata KEY_MAPPING.md), derived from an OpenAI key list.
/// </summary>
public static partial class HfClipKeyMap
{
    /// <summary>HF buffers that are not weights: <c>arange</c> position ids some published checkpoints carry.</summary>
    public static readonly string[] PositionIdKeys = ["text_model.embeddings.position_ids", "vision_model.embeddings.position_ids"];

    private static readonly (string OpenAi, string Hf)[] Renames =
    [
        ("token_embedding.weight", "text_model.embeddings.token_embedding.weight"),
        ("positional_embedding", "text_model.embeddings.position_embedding.weight"),
        ("ln_final.", "text_model.final_layer_norm."),
        ("logit_scale", "logit_scale"),
        ("visual.conv1.weight", "vision_model.embeddings.patch_embedding.weight"),
        ("visual.class_embedding", "vision_model.embeddings.class_embedding"),
        ("visual.positional_embedding", "vision_model.embeddings.position_embedding.weight"),
        ("visual.ln_pre.", "vision_model.pre_layrnorm."),   // sic: HF's spelling
        ("visual.ln_post.", "vision_model.post_layernorm."),
    ];

    private static readonly (string OpenAi, string Hf)[] BlockRenames =
    [
        ("ln_1.", "layer_norm1."), ("ln_2.", "layer_norm2."), ("attn.out_proj.", "self_attn.out_proj."),
        ("mlp.c_fc.", "mlp.fc1."), ("mlp.c_proj.", "mlp.fc2."),
    ];

    /// <summary>The mapping of every key in <paramref name="openAiKeys"/>; throws for a key it does not know.</summary>
    public static IReadOnlyList<HfKeyMapping> For(IEnumerable<string> openAiKeys) => openAiKeys.Select(Map).ToList();

    private static HfKeyMapping Map(string key)
    {
        if (key == "text_projection") return new(key, ["text_projection.weight"], HfTransform.Transpose);
        if (key == "visual.proj") return new(key, ["visual_projection.weight"], HfTransform.Transpose);
        var block = Block().Match(key);
        if (block.Success)
        {
            var tower = block.Groups[1].Success ? "vision_model" : "text_model";
            var prefix = $"{tower}.encoder.layers.{block.Groups[2].Value}.";
            var rest = block.Groups[3].Value;
            if (rest is "attn.in_proj_weight" or "attn.in_proj_bias")
            {
                var suffix = rest.EndsWith("weight", StringComparison.Ordinal) ? "weight" : "bias";
                return new(key, new[] { "q", "k", "v" }.Select(p => $"{prefix}self_attn.{p}_proj.{suffix}").ToList(), HfTransform.SplitQkv);
            }
            foreach (var (from, to) in BlockRenames)
                if (rest.StartsWith(from, StringComparison.Ordinal)) return new(key, [prefix + to + rest[from.Length..]], HfTransform.Copy);
        }
        foreach (var (from, to) in Renames)
            if (key == from || (from.EndsWith('.') && key.StartsWith(from, StringComparison.Ordinal)))
                return new(key, [to + key[from.Length..]], HfTransform.Copy);
        throw new InvalidDataException($"no Hugging Face name for CLIP key '{key}'");
    }

    [GeneratedRegex(@"^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)$")]
    private static partial Regex Block();
}
