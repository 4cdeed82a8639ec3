using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>
/// OpenAI/OpenCLIP ViT CLIP. Field names equal the PyTorch state_dict keys (<c>visual.*</c>, <c>transformer.*</c>,
/// <c>token_embedding</c>, <c>positional_embedding</c>, <c>ln_final</c>, <c>text_projection</c>, <c>logit_scale</c>),
/// so OpenAI and OpenCLIP checkpoints load without renaming. Text is pooled at the EOT token, found as
/// <c>argmax(ids)</c> as OpenAI does (EOT has the highest id).
/// </summary>
public sealed class ClipModel : nn.Module<Tensor, Tensor, ClipOutput>
{
    private readonly VisionTransformer visual;
    private readonly Transformer transformer;
    private readonly Embedding token_embedding;
    private readonly Parameter positional_embedding;
    private readonly LayerNorm ln_final;
    private readonly Parameter text_projection;
    private readonly Parameter logit_scale;

    /// <summary>Builds the model with OpenAI's initialisation (<c>initialize_parameters</c>), ready to train from scratch.</summary>
    public ClipModel(ClipConfig config) : base(nameof(ClipModel))
    {
        Config = config.Validate();
        visual = new VisionTransformer(config.ImageResolution, config.VisionPatchSize, config.VisionWidth,
            config.VisionLayers, config.VisionHeadCount, config.EmbedDim, config.Activation);
        transformer = new Transformer(config.TransformerWidth, config.TransformerLayers, config.TransformerHeads, config.Activation);
        token_embedding = nn.Embedding(config.VocabSize, config.TransformerWidth);
        positional_embedding = new Parameter(empty(config.ContextLength, config.TransformerWidth));
        ln_final = nn.LayerNorm(config.TransformerWidth, eps: 1e-5);
        text_projection = new Parameter(empty(config.TransformerWidth, config.EmbedDim));
        logit_scale = new Parameter(tensor((float)Math.Log(1 / 0.07)));
        InitializeParameters();
        RegisterComponents();
    }

    public ClipConfig Config { get; }
    public VisionTransformer Visual => visual;
    public Parameter LogitScaleParameter => logit_scale;

    /// <summary>Projected, unnormalised image features [B, E] of normalised pixels [B, 3, R, R].</summary>
    public Tensor encode_image(Tensor pixels) => visual.forward(pixels, null);

    /// <summary>Projected, unnormalised text features [B, E] of token ids [B, L] (int64, L at most context_length).</summary>
    public Tensor encode_text(Tensor ids) => EncodeText(ids, null);

    /// <summary>L2-normalised features of both towers and the clamped logit scale.</summary>
    public override ClipOutput forward(Tensor pixels, Tensor ids)
    {
        // The model's modules keep their own scopes (an exception to one scope per step): measured on the micro
        // CLIP, a no_grad forward then leaves 3 tensors live in the caller's scope instead of 107, and a training
        // step 8 instead of 112 before backward, for the same 442 tensors made per step. Encoding many batches
        // under no_grad holds only the embeddings, not every block's activations (ModelScopeTests).
        using var scope = NewDisposeScope();
        var image = nn.functional.normalize(encode_image(pixels), p: 2, dim: -1);
        var text = nn.functional.normalize(encode_text(ids), p: 2, dim: -1);
        var scale = logit_scale.exp().clamp_max(100);
        return new ClipOutput(image.MoveToOuterDisposeScope(), text.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope());
    }

    /// <param name="observe">Sees named intermediates (<c>embed_out</c>, <c>block{i}_out</c>, <c>ln_final_out</c>, <c>pooled</c>).</param>
    public Tensor EncodeText(Tensor ids, Action<string, Tensor>? observe)
    {
        if (ids.dim() != 2 || ids.dtype != ScalarType.Int64)
            throw new ArgumentException($"token ids must be int64 [B, L], got {ids.dtype} [{string.Join(", ", ids.shape)}]");
        var length = ids.shape[1];
        if (length > Config.ContextLength || length == 0)
            throw new ArgumentException($"token ids have length {length}; this model takes 1 to {Config.ContextLength}");
        using var scope = NewDisposeScope();
        var x = token_embedding.call(ids) + positional_embedding[..(int)length];   // [B, L, W]
        observe?.Invoke("embed_out", x);
        using var mask = CausalMask(length, x.device);
        x = transformer.forward(x, mask, observe is null ? null : (i, h) => observe($"block{i}_out", h));
        x = Autocast.LayerNorm(x, ln_final);
        observe?.Invoke("ln_final_out", x);
        var eot = ids.argmax(-1);                                                  // [B]
        var pooled = x[arange(x.shape[0], device: x.device), eot];                 // [B, W]
        observe?.Invoke("pooled", pooled);
        return Autocast.Matmul(pooled, text_projection).to(text_projection.dtype).MoveToOuterDisposeScope(); // [B, E]
    }

    /// <summary>Additive causal mask [L, L]: -inf above the diagonal. Computed, never stored in a checkpoint.</summary>
    private static Tensor CausalMask(long length, Device device) =>
        full(length, length, float.NegativeInfinity, device: device).triu_(1);

    /// <summary>OpenAI's <c>CLIP.initialize_parameters</c>: the std values its released models were trained from.</summary>
    private void InitializeParameters()
    {
        using var _ = no_grad();
        nn.init.normal_(token_embedding.weight!, std: 0.02);
        nn.init.normal_(positional_embedding, std: 0.01);
        var width = transformer.Width;
        var projStd = Math.Pow(width, -0.5) * Math.Pow(2 * transformer.Blocks.Count, -0.5);
        var attnStd = Math.Pow(width, -0.5);
        var fcStd = Math.Pow(2 * width, -0.5);
        foreach (var block in transformer.Blocks)
        {
            nn.init.normal_(block.Attn.InProjWeight, std: attnStd);
            nn.init.normal_(block.Attn.OutProj.weight!, std: projStd);
            nn.init.normal_(block.MlpBlock.CFc.weight!, std: fcStd);
            nn.init.normal_(block.MlpBlock.CProj.weight!, std: projStd);
        }
        nn.init.normal_(text_projection, std: Math.Pow(width, -0.5));
    }
}
