using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Losses;

/// <summary>
/// CLIP's symmetric InfoNCE over a batch of matched pairs (docs/METHOD.md, "Losses"): cross-entropy of
/// image->text and text->image logits against the diagonal, averaged.
/// </summary>
public static class ClipLoss
{
    /// <summary>Largest temperature <c>exp(logit_scale)</c> the loss uses (logit scale at most ln 100).</summary>
    public const double MaxScale = 100.0;

    /// <param name="imageFeatures">L2-normalised image embeddings x, [B, E].</param>
    /// <param name="textFeatures">L2-normalised text embeddings y, [B, E].</param>
    /// <param name="scale">The temperature <c>exp(logit_scale)</c>, a 0-d tensor; values above 100 count as 100.</param>
    /// <returns>The scalar loss.</returns>
    public static Tensor Compute(Tensor imageFeatures, Tensor textFeatures, Tensor scale)
    {
        CheckPair(imageFeatures, textFeatures);
        var logits = scale.clamp_max(MaxScale) * imageFeatures.matmul(textFeatures.t());  // [B, B], row i = image i
        var labels = arange(imageFeatures.shape[0], dtype: ScalarType.Int64, device: imageFeatures.device);
        return (nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.t(), labels)) / 2;
    }

    internal static void CheckPair(Tensor x, Tensor y)
    {
        if (x.dim() != 2 || y.dim() != 2 || x.shape[0] != y.shape[0] || x.shape[1] != y.shape[1])
            throw new ArgumentException($"image and text features must both be [B, E]; got [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}]");
        if (x.shape[0] < 2)
            throw new ArgumentException($"a contrastive batch needs at least 2 pairs; got {x.shape[0]}");
    }
}
