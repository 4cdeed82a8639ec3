using static TorchSharp.torch;

namespace TpcCma.Losses;

/// <summary>
/// Intra-modal geometry matching (docs/METHOD.md, "CMA variants"), the in-modal consistency term of CyCLIP
/// (Goel et al., NeurIPS 2022): <c>L_geom = (1/B^2) sum_{j,k} (x_j . x_k - y_j . y_k)^2</c>. Both similarity
/// matrices carry gradient, so the image geometry is pulled toward the text geometry and back. It is
/// invariant to any rotation of either cloud: it matches shapes, not positions.
/// </summary>
public static class GeometryLoss
{
    /// <param name="imageFeatures">L2-normalised x, [B, E].</param>
    /// <param name="textFeatures">L2-normalised y, [B, E].</param>
    public static Tensor Compute(Tensor imageFeatures, Tensor textFeatures)
    {
        ClipLoss.CheckPair(imageFeatures, textFeatures);
        var imageGram = imageFeatures.matmul(imageFeatures.t());   // [B, B]
        var textGram = textFeatures.matmul(textFeatures.t());      // [B, B]
        return (imageGram - textGram).square().mean();
    }
}
