using static TorchSharp.torch;

namespace TpcCma.Losses;

/// <summary>
/// The multi-modal mixup term of m^2-Mix (Oh et al., "Geodesic Multi-Modal Mixup for Robust Fine-Tuning",
/// NeurIPS 2023), in the form of the authors' OpenCLIP loss: each pair's image and caption are mixed on the sphere,
/// <c>m_j = slerp(x_j, y_j; lambda) = (sin(lambda theta_j) x_j + sin((1 - lambda) theta_j) y_j) / sin theta_j</c>,
/// <c>theta_j = arccos(x_j . y_j)</c>, and the mixes serve as hard negatives: image i is scored against its own
/// caption (the diagonal, <c>s x_i . y_i</c>) and the other pairs' mixes (<c>s x_i . m_j</c>, j != i); captions the
/// same way; cross-entropy against the diagonal, both directions averaged. docs/METHOD.md, "Peer methods".
/// </summary>
public static class M2MixLoss
{
    /// <param name="lambda">The mixing ratio, drawn per step from Beta(beta_m, beta_m) by the objective.</param>
    public static Tensor Compute(Tensor imageFeatures, Tensor textFeatures, Tensor scale, double lambda)
    {
        ClipLoss.CheckPair(imageFeatures, textFeatures);
        if (!double.IsFinite(lambda) || lambda < 0 || lambda > 1) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "must be in [0, 1]");
        var s = scale.clamp_max(ClipLoss.MaxScale);
        var mixed = Slerp(imageFeatures, textFeatures, lambda);                                     // [B, E]
        var b = imageFeatures.shape[0];
        var diagonal = eye(b, dtype: ScalarType.Bool, device: imageFeatures.device);                // [B, B]
        var paired = s * imageFeatures.matmul(textFeatures.t());                                    // [B, B], row i = image i
        var imageRows = where(diagonal, paired, s * imageFeatures.matmul(mixed.t()));               // [B, B]
        var textRows = where(diagonal, paired.t(), s * textFeatures.matmul(mixed.t()));             // [B, B], row i = caption i
        var labels = arange(b, dtype: ScalarType.Int64, device: imageFeatures.device);
        return (nn.functional.cross_entropy(imageRows, labels) + nn.functional.cross_entropy(textRows, labels)) / 2;
    }

    /// <summary>
    /// Geodesic interpolation, row by row. The cosine is kept inside [-1 + 1e-7, 1 - 1e-7], so theta is at least
    /// about 4.5e-4 and sin theta never vanishes: a pair that coincides mixes into itself instead of into NaN.
    /// </summary>
    public static Tensor Slerp(Tensor x, Tensor y, double lambda)
    {
        var theta = (x * y).sum(1, keepdim: true).clamp(-1 + 1e-7, 1 - 1e-7).acos();             // [B, 1]
        return ((lambda * theta).sin() * x + ((1 - lambda) * theta).sin() * y) / theta.sin();
    }

    /// <summary>A draw from Beta(1/2, 1/2), the authors' default: the arcsine law, <c>sin^2(pi u / 2)</c> for uniform u.</summary>
    public static double DrawLambda(Generator? generator = null) =>
        Math.Pow(Math.Sin(Math.PI * rand(1, dtype: ScalarType.Float64, generator: generator).item<double>() / 2), 2);
}
