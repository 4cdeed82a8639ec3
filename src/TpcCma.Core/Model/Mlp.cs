using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>The block's feed-forward net: <c>c_fc</c> (W to 4W), activation, <c>c_proj</c> (4W to W), as in OpenAI CLIP.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear c_fc;
    private readonly nn.Module<Tensor, Tensor> gelu;
    private readonly Linear c_proj;

    public Mlp(int width, int hidden, string activation) : base(nameof(Mlp))
    {
        c_fc = nn.Linear(width, hidden);
        gelu = QuickGelu.For(activation);
        c_proj = nn.Linear(hidden, width);
        RegisterComponents();
    }

    public Linear CFc => c_fc;
    public Linear CProj => c_proj;

    public override Tensor forward(Tensor x)
    {
        using var hidden = Autocast.Linear(x, c_fc.weight!, c_fc.bias);
        using var activated = gelu.call(hidden);
        return Autocast.Linear(activated, c_proj.weight!, c_proj.bias);
    }
}
