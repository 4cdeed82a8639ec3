using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>Pre-norm transformer block of OpenAI CLIP: <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>.</summary>
public sealed class ResidualAttentionBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    // Declared in PyTorch's registration order, so state_dict and named_parameters orders match.
    private readonly Attention attn;
    private readonly LayerNorm ln_1;
    private readonly Mlp mlp;
    private readonly LayerNorm ln_2;

    public ResidualAttentionBlock(int width, int heads, string activation) : base(nameof(ResidualAttentionBlock))
    {
        attn = new Attention(width, heads);
        ln_1 = nn.LayerNorm(width, eps: 1e-5);
        mlp = new Mlp(width, width * 4, activation);
        ln_2 = nn.LayerNorm(width, eps: 1e-5);
        RegisterComponents();
    }

    public Attention Attn => attn;
    public Mlp MlpBlock => mlp;

    /// <param name="x">[B, L, W]</param>
    /// <param name="mask">Additive [L, L] attention mask or null.</param>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var h = x + attn.call(Autocast.LayerNorm(x, ln_1), mask);
        return (h + mlp.call(Autocast.LayerNorm(h, ln_2))).MoveToOuterDisposeScope();
    }
}
