using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TpcCma.Evaluation.Captioning;

/// <summary>Size of the text-only caption decoder.</summary>
public sealed record CaptionDecoderConfig(int EmbedDim, int VocabSize, int Width = 128, int Layers = 2, int Heads = 4, int MaxWords = 20);

/// <summary>
/// A small causal transformer (GPT-2 layout, nanoGPT names) that writes a caption from one embedding: position
/// 0 holds <c>prefix(embedding)</c>, positions 1.. the words so far; the output at position t predicts word t.
/// </summary>
public sealed class CaptionDecoder : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear prefix;
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly ModuleList<DecoderBlock> h;
    private readonly LayerNorm ln_f;
    private readonly Linear lm_head;

    public CaptionDecoderConfig Config { get; }

    public CaptionDecoder(CaptionDecoderConfig config) : base(nameof(CaptionDecoder))
    {
        Config = config;
        prefix = nn.Linear(config.EmbedDim, config.Width);
        wte = nn.Embedding(config.VocabSize, config.Width);
        wpe = nn.Embedding(config.MaxWords + 2, config.Width);
        h = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new DecoderBlock(config.Width, config.Heads)).ToArray());
        ln_f = nn.LayerNorm(config.Width);
        lm_head = nn.Linear(config.Width, config.VocabSize, hasBias: false);
        RegisterComponents();
    }

    /// <param name="embedding">[B, E] normalised embeddings.</param>
    /// <param name="words">[B, T] word ids so far (T may be 0).</param>
    /// <returns>[B, T + 1, V] logits of the next word at each position.</returns>
    public override Tensor forward(Tensor embedding, Tensor words)
    {
        using var scope = NewDisposeScope();
        var start = prefix.call(embedding).unsqueeze(1);                                  // [B, 1, W]
        var x = words.shape[1] == 0 ? start : cat([start, wte.call(words)], 1);             // [B, T+1, W]
        x = x + wpe.call(arange(x.shape[1], device: x.device));
        foreach (var block in h) x = block.call(x);
        return lm_head.call(ln_f.call(x)).MoveToOuterDisposeScope();
    }

    /// <summary>Greedy decoding: word ids [B, MaxWords + 1], padded after the end id.</summary>
    public Tensor Generate(Tensor embedding)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var batch = embedding.shape[0];
        var words = zeros([batch, 0], dtype: ScalarType.Int64, device: embedding.device);
        var finished = zeros([batch], dtype: ScalarType.Bool, device: embedding.device);
        for (var t = 0; t <= Config.MaxWords; t++)
        {
            var next = forward(embedding, words).select(1, -1).argmax(-1);                  // [B]
            next = next.masked_fill(finished, CaptionVocabulary.Pad);
            words = cat([words, next.unsqueeze(1)], 1);
            finished = finished.logical_or(next.eq(CaptionVocabulary.End));
            if (finished.all().item<bool>()) break;
        }
        return words.MoveToOuterDisposeScope();
    }
}

/// <summary>Pre-norm transformer block with causal self-attention (nanoGPT's <c>Block</c>).</summary>
internal sealed class DecoderBlock : Module<Tensor, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly CausalSelfAttention attn;
    private readonly LayerNorm ln_2;
    private readonly Sequential mlp;

    public DecoderBlock(int width, int heads) : base(nameof(DecoderBlock))
    {
        ln_1 = nn.LayerNorm(width);
        attn = new CausalSelfAttention(width, heads);
        ln_2 = nn.LayerNorm(width);
        mlp = nn.Sequential(("c_fc", nn.Linear(width, 4 * width)), ("gelu", nn.GELU()), ("c_proj", nn.Linear(4 * width, width)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = x + attn.call(ln_1.call(x));
        return x + mlp.call(ln_2.call(x));
    }
}

/// <summary>Multi-head self-attention that only looks at earlier positions.</summary>
internal sealed class CausalSelfAttention : Module<Tensor, Tensor>
{
    private readonly Linear c_attn;
    private readonly Linear c_proj;
    private readonly int heads;

    public CausalSelfAttention(int width, int heads) : base(nameof(CausalSelfAttention))
    {
        if (width % heads != 0) throw new ArgumentException($"width {width} is not divisible by {heads} heads");
        this.heads = heads;
        c_attn = nn.Linear(width, 3 * width);
        c_proj = nn.Linear(width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var (b, t, w) = (x.shape[0], x.shape[1], x.shape[2]);
        var qkv = c_attn.call(x).view(b, t, 3, heads, w / heads).permute(2, 0, 3, 1, 4);    // [3, B, H, T, W/H]
        var (q, k, v) = (qkv[0], qkv[1], qkv[2]);
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(w / heads);                // [B, H, T, T]
        var future = ones([t, t], dtype: ScalarType.Bool, device: x.device).triu(1);
        var attention = scores.masked_fill(future, float.NegativeInfinity).softmax(-1);
        var y = attention.matmul(v).transpose(1, 2).reshape(b, t, w);                      // [B, T, W]
        return c_proj.call(y);
    }
}
