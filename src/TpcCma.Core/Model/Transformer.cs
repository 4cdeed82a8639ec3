using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>A stack of <see cref="ResidualAttentionBlock"/>s named <c>resblocks.N</c>, as in OpenAI CLIP.</summary>
public sealed class Transformer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<ResidualAttentionBlock> resblocks;

    public Transformer(int width, int layers, int heads, string activation) : base(nameof(Transformer))
    {
        Width = width;
        resblocks = new ModuleList<ResidualAttentionBlock>(
            Enumerable.Range(0, layers).Select(_ => new ResidualAttentionBlock(width, heads, activation)).ToArray());
        RegisterComponents();
    }

    public int Width { get; }
    public IReadOnlyList<ResidualAttentionBlock> Blocks => resblocks.ToList();

    /// <summary>Runs every block; <paramref name="observe"/> (if given) sees each block's output, for parity tests.</summary>
    public Tensor forward(Tensor x, Tensor? mask, Action<int, Tensor>? observe)
    {
        var h = x.alias();
        for (var i = 0; i < resblocks.Count; i++)
        {
            var next = resblocks[i].call(h, mask);
            h.Dispose();
            h = next;
            observe?.Invoke(i, h);
        }
        return h;
    }

    public override Tensor forward(Tensor x, Tensor? mask) => forward(x, mask, null);
}
