using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>OpenAI CLIP's activation, <c>x * sigmoid(1.702 x)</c>: the original weights were trained with it.</summary>
public sealed class QuickGelu() : nn.Module<Tensor, Tensor>(nameof(QuickGelu))
{
    public override Tensor forward(Tensor x)
    {
        using var gate = torch.sigmoid(x * 1.702);
        return x * gate;
    }

    /// <summary>The activation a config names: <c>quick_gelu</c> or <c>gelu</c> (exact, erf form).</summary>
    public static nn.Module<Tensor, Tensor> For(string activation) => activation switch
    {
        "quick_gelu" => new QuickGelu(),
        "gelu" => nn.GELU(),
        _ => throw new ArgumentException($"unknown activation '{activation}' (quick_gelu or gelu)"),
    };
}
