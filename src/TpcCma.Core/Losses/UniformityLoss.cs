using static TorchSharp.torch;

namespace TpcCma.Losses;

/// <summary>
/// The uniformity term of Wang and Isola (ICML 2020) on the unit sphere, per modality and averaged:
/// <c>L_unif = (U(x) + U(y)) / 2</c>, <c>U(x) = log( (1/(B(B-1))) sum_{i != j} exp(-t ||x_i - x_j||^2) )</c>, t = 2.
/// Lower is more spread out; it rises toward 0 as a cloud collapses onto a point, so adding it to the alignment
/// term lets the clouds meet without shrinking into a cone (docs/METHOD.md, "Spread preservation").
/// </summary>
public static class UniformityLoss
{
    /// <summary>The kernel's t, as in Wang and Isola.</summary>
    public const double T = 2.0;

    public static Tensor Compute(Tensor imageFeatures, Tensor textFeatures)
    {
        ClipLoss.CheckPair(imageFeatures, textFeatures);
        return (OneModality(imageFeatures) + OneModality(textFeatures)) / 2;
    }

    // ||x_i - x_j||^2 from the Gram matrix as ||x_i||^2 + ||x_j||^2 - 2 x_i . x_j, not 2 - 2 x_i . x_j: the values
    // agree on the sphere but the gradients do not (the norms carry gradient too), and Wang and Isola use the
    // distance itself. The diagonal (i = j) is dropped by a mask: log-sum-exp over the B(B-1) off-diagonal
    // entries, minus log of their count.
    private static Tensor OneModality(Tensor x)
    {
        var b = x.shape[0];
        var squaredNorms = x.square().sum(1);                                                              // [B]
        var squaredDistances = (squaredNorms.unsqueeze(1) + squaredNorms.unsqueeze(0) - 2 * x.matmul(x.t())).clamp_min(0);  // [B, B]
        var offDiagonal = eye(b, dtype: ScalarType.Bool, device: x.device).logical_not();                 // [B, B]
        var exponents = (-T * squaredDistances).masked_select(offDiagonal);                               // [B(B-1)]
        return exponents.logsumexp(0) - Math.Log(b * (b - 1.0));
    }
}
