using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>
/// Multi-head self-attention with the parameters of PyTorch's <c>nn.MultiheadAttention</c> (<c>in_proj_weight</c>,
/// <c>in_proj_bias</c>, <c>out_proj</c>), so OpenAI/OpenCLIP checkpoints load 1:1. Batch-first [B, L, W].
/// All heads run in one batched product; at CLIP's short sequences this beat <c>scaled_dot_product_attention</c>.
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly Parameter in_proj_weight;
    private readonly Parameter in_proj_bias;
    private readonly Linear out_proj;
    private readonly int heads;

    public Attention(int width, int heads) : base(nameof(Attention))
    {
        this.heads = heads;
        // Same initialisation and RNG order as nn.MultiheadAttention: out_proj's Linear init, then
        // xavier_uniform_ on in_proj_weight and zero biases.
        in_proj_weight = new Parameter(empty(3 * width, width));
        in_proj_bias = new Parameter(zeros(3 * width));
        out_proj = nn.Linear(width, width);
        using (no_grad())
        {
            nn.init.xavier_uniform_(in_proj_weight);
            out_proj.bias!.zero_();
        }
        RegisterComponents();
    }

    public Parameter InProjWeight => in_proj_weight;
    public Linear OutProj => out_proj;

    /// <param name="x">[B, L, W]</param>
    /// <param name="mask">Additive [L, L] mask (0 or -inf), or null.</param>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2]);
        var headDim = width / heads;
        var qkv = Autocast.Linear(x, in_proj_weight, in_proj_bias)      // [B, L, 3W]
            .view(batch, length, 3, heads, headDim)
            .permute(2, 0, 3, 1, 4);                                     // [3, B, H, L, D]
        var (q, k, v) = (qkv[0], qkv[1], qkv[2]);
        var scores = Autocast.Matmul(q * (1.0 / Math.Sqrt(headDim)), k.transpose(-2, -1)); // [B, H, L, L]
        if (mask is not null) scores = scores + mask;
        var weights = scores.softmax(-1, ScalarType.Float32);
        var context = Autocast.Matmul(weights, v)                         // [B, H, L, D]
            .transpose(1, 2)
            .reshape(batch, length, width);
        return Autocast.Linear(context, out_proj.weight!, out_proj.bias).MoveToOuterDisposeScope();
    }
}
