using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>Effective dimensionality of one embedding cloud (METHOD.md, "Effective dimensionality").</summary>
/// <param name="ParticipationRatio"><c>(sum_k l_k)^2 / sum_k l_k^2</c> over the covariance eigenvalues l_k: between 1 (one direction) and D (isotropic).</param>
/// <param name="EffectiveRank">Roy and Vetterli's <c>exp(H(p))</c>, <c>p_k = s_k / sum s</c> over the singular values s_k of the centred embedding matrix.</param>
public sealed record CloudDimensionality(double ParticipationRatio, double EffectiveRank);

/// <summary>Per modality and of the pooled 2N points (where the gap direction itself counts as a dimension).</summary>
public sealed record DimensionalityResult(CloudDimensionality Image, CloudDimensionality Text, CloudDimensionality Pooled);

/// <summary>
/// How many directions an embedding cloud really uses. Strong alignment can compress features into few directions;
/// these numbers show it beside the gaps. Embeddings are L2-normalised first (as for the gap measures), then
/// centred on their own mean; arithmetic in float64.
/// </summary>
public static class EffectiveDimensionality
{
    public static DimensionalityResult Measure(Tensor image, Tensor text)
    {
        GapGeometry.CheckPairs(image, text, minimum: 2);
        using var scope = NewDisposeScope();
        var x = nn.functional.normalize(image.detach().to_type(ScalarType.Float64), p: 2, dim: 1);   // [N, D]
        var y = nn.functional.normalize(text.detach().to_type(ScalarType.Float64), p: 2, dim: 1);
        return new DimensionalityResult(Of(x), Of(y), Of(cat([x, y], 0)));
    }

    /// <summary>Both measures for the rows of <paramref name="points"/> ([N, D], N >= 2), used as they are (not normalised).</summary>
    public static CloudDimensionality Of(Tensor points)
    {
        if (points.dim() != 2 || points.shape[0] < 2) throw new ArgumentException($"need [N, D] with N >= 2, got {GapGeometry.Shape(points)}");
        using var scope = NewDisposeScope();
        var p = points.to_type(ScalarType.Float64);
        var centred = p - p.mean([0], keepdim: true);
        var singular = linalg.svdvals(centred).cpu().data<double>().ToArray();   // covariance eigenvalues are s^2 / (N - 1)
        return new CloudDimensionality(ParticipationRatio(singular), EffectiveRank(singular));
    }

    // The 1/(N-1) of the covariance cancels in the ratio, so s^2 stands for the eigenvalues.
    private static double ParticipationRatio(double[] singular)
    {
        var eigen = singular.Select(s => s * s).ToArray();
        var sumSquares = eigen.Sum(l => l * l);
        return sumSquares == 0 ? 0 : Math.Pow(eigen.Sum(), 2) / sumSquares;
    }

    // 0 log 0 = 0: directions with no variance add nothing.
    private static double EffectiveRank(double[] singular)
    {
        var total = singular.Sum();
        if (total == 0) return 0;
        var entropy = singular.Where(s => s > 0).Select(s => s / total).Sum(q => -q * Math.Log(q));
        return Math.Exp(entropy);
    }
}
