using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>
/// OpenAI CLIP's image tower: patchify with <c>conv1</c>, prepend <c>class_embedding</c>, add
/// <c>positional_embedding</c>, <c>ln_pre</c>, transformer, <c>ln_post</c> on the class token, then <c>@ proj</c>.
/// </summary>
public sealed class VisionTransformer : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Parameter class_embedding;
    private readonly Parameter positional_embedding;
    private readonly LayerNorm ln_pre;
    private readonly Transformer transformer;
    private readonly LayerNorm ln_post;
    private readonly Parameter proj;

    public VisionTransformer(int resolution, int patchSize, int width, int layers, int heads, int outputDim, string activation)
        : base(nameof(VisionTransformer))
    {
        Resolution = resolution;
        conv1 = nn.Conv2d(3, width, kernel_size: patchSize, stride: patchSize, bias: false);
        var scale = Math.Pow(width, -0.5);
        var tokens = (resolution / patchSize) * (resolution / patchSize) + 1;
        class_embedding = new Parameter(randn(width).mul_(scale));
        positional_embedding = new Parameter(randn(tokens, width).mul_(scale));
        ln_pre = nn.LayerNorm(width, eps: 1e-5);
        transformer = new Transformer(width, layers, heads, activation);
        ln_post = nn.LayerNorm(width, eps: 1e-5);
        proj = new Parameter(randn(width, outputDim).mul_(scale));
        RegisterComponents();
    }

    public int Resolution { get; }
    public Transformer Encoder => transformer;

    public override Tensor forward(Tensor pixels) => forward(pixels, null);

    /// <param name="pixels">Normalised images [B, 3, R, R].</param>
    /// <param name="observe">Sees named intermediates (<c>patch_embeds</c>, <c>ln_pre_out</c>, <c>block{i}_out</c>, <c>pooled</c>).</param>
    /// <returns>Projected, unnormalised image features [B, E].</returns>
    public Tensor forward(Tensor pixels, Action<string, Tensor>? observe)
    {
        if (pixels.dim() != 4 || pixels.shape[1] != 3 || pixels.shape[2] != Resolution || pixels.shape[3] != Resolution)
            throw new ArgumentException($"pixels must be [B, 3, {Resolution}, {Resolution}], got [{string.Join(", ", pixels.shape)}]");
        using var scope = NewDisposeScope();
        var patches = Autocast.Current is { } dtype
            ? nn.functional.conv2d(pixels.to(dtype), Autocast.Cast(conv1.weight!), null, conv1.stride, conv1.padding)
            : conv1.call(pixels);                                            // [B, W, G, G]
        observe?.Invoke("patch_embeds", patches);
        var batch = patches.shape[0];
        var x = patches.flatten(2).transpose(1, 2).to(proj.dtype);         // [B, G*G, W]
        var cls = class_embedding.to(x.dtype).expand(batch, 1, -1);          // [B, 1, W]
        x = cat([cls, x], 1) + positional_embedding;                          // [B, G*G+1, W]
        x = Autocast.LayerNorm(x, ln_pre);
        observe?.Invoke("ln_pre_out", x);
        x = transformer.forward(x, null, observe is null ? null : (i, h) => observe($"block{i}_out", h));
        var pooled = Autocast.LayerNorm(x[.., 0, ..], ln_post);                // [B, W]
        observe?.Invoke("pooled", pooled);
        return Autocast.Matmul(pooled, proj).to(proj.dtype).MoveToOuterDisposeScope(); // [B, E]
    }
}
