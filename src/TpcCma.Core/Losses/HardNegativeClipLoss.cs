using static TorchSharp.torch;

namespace TpcCma.Losses;

/// <summary>
/// HN-NCE (Radenovic et al., CVPR 2023, "Filtering, Distillation, and Hard Negatives for Vision-Language
/// Pre-Training"): CLIP's symmetric InfoNCE with each row's negatives weighted by
/// <c>w_ij = (B-1) exp(beta s_ij) / sum_{k != i} exp(beta s_ik)</c>, <c>s = scale x y^T</c> (the logits), so the
/// weights average 1 over a row's negatives and beta = 0 is CLIP's loss exactly. The weights are importance
/// weights, held constant (detached): <c>loss_i = -log( e^{s_ii} / (e^{s_ii} + sum_{j != i} w_ij e^{s_ij}) )</c>,
/// implemented as cross-entropy of logits <c>s_ij + log w_ij</c> (off the diagonal). The text-to-image half uses
/// the columns the same way. See docs/METHOD.md, "Hard negatives".
/// </summary>
public static class HardNegativeClipLoss
{
    public static Tensor Compute(Tensor imageFeatures, Tensor textFeatures, Tensor scale, double beta)
    {
        ClipLoss.CheckPair(imageFeatures, textFeatures);
        if (!double.IsFinite(beta) || beta < 0) throw new ArgumentOutOfRangeException(nameof(beta), beta, "must be finite and >= 0");
        var logits = scale.clamp_max(ClipLoss.MaxScale) * imageFeatures.matmul(textFeatures.t());  // [B, B], row i = image i
        var labels = arange(imageFeatures.shape[0], dtype: ScalarType.Int64, device: imageFeatures.device);
        return (nn.functional.cross_entropy(Reweighted(logits, beta), labels)
                + nn.functional.cross_entropy(Reweighted(logits.t(), beta), labels)) / 2;
    }

    // Adds log w_ij to each row's negatives; the diagonal (the positive) keeps weight 1.
    private static Tensor Reweighted(Tensor logits, double beta)
    {
        var b = logits.shape[0];
        var diagonal = eye(b, dtype: ScalarType.Bool, device: logits.device);                            // [B, B]
        var hardness = (beta * logits.detach()).masked_fill(diagonal, double.NegativeInfinity);         // [B, B]
        var logWeights = Math.Log(b - 1.0) + hardness - hardness.logsumexp(1, keepdim: true);          // [B, B]
        return logits + logWeights.masked_fill(diagonal, 0.0);
    }
}
