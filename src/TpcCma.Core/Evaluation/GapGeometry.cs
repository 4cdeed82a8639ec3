using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>The gap measures of METHOD.md ("Gap geometry") for N matched image/text pairs.</summary>
/// <param name="Raw">G_R = sqrt(mean_i ||x_i - y_i||^2).</param>
/// <param name="Centroid">G_C = ||mu_x - mu_y|| (the L2M gap of Liang et al. 2022).</param>
/// <param name="Distribution">G_D = sqrt(mean_i ||(x_i - mu_x) - (y_i - mu_y)||^2).</param>
/// <param name="CosPair">Mean cosine of matched pairs.</param>
/// <param name="Frechet">Squared 2-Wasserstein distance of the two Gaussian fits.</param>
/// <param name="FrechetCov">Its covariance (trace) term alone.</param>
/// <param name="Rmg">Relative modality gap of Schrodi et al. 2025.</param>
/// <param name="ImageSpread">How widely the image cloud spreads (null in reports written before it was measured).</param>
/// <param name="TextSpread">How widely the text cloud spreads.</param>
/// <param name="Mismatch">The scale-free distribution gap <c>G_D^2 / (tr S_x + tr S_y)</c>: 0 for matched pairs,
/// 1 for independent clouds, whatever their size; a cloud that merely shrinks lowers G_D but not this.</param>
public sealed record GapMeasures(
    double Raw, double Centroid, double Distribution, double CosPair, double Frechet, double FrechetCov, double Rmg,
    CloudSpread? ImageSpread = null, CloudSpread? TextSpread = null, double? Mismatch = null);

/// <summary>The spread of one modality's cloud.</summary>
/// <param name="CovarianceTrace"><c>tr S = (1/N) sum_i ||x_i - mu||^2</c> (population covariance, the normalisation of G_D).</param>
/// <param name="CosineDistance">Mean <c>1 - cos(x_i, x_j)</c> over distinct samples i != j: near 0 when the cloud is a narrow cone.</param>
public sealed record CloudSpread(double CovarianceTrace, double CosineDistance);

/// <summary>A gap reduction in percent, <c>100 * (1 - after / before)</c>, for each of G_R, G_C, G_D.</summary>
public sealed record GapReduction(double Raw, double Centroid, double Distribution)
{
    public static GapReduction Between(GapMeasures before, GapMeasures after) => new(
        Percent(before.Raw, after.Raw), Percent(before.Centroid, after.Centroid), Percent(before.Distribution, after.Distribution));

    /// <summary>NaN when there was no gap to reduce.</summary>
    public static double Percent(double before, double after) => before == 0 ? double.NaN : 100 * (1 - after / before);
}

/// <summary>
/// Gap geometry of paired embedding clouds (METHOD.md, "Gap geometry"). All arithmetic is float64 on the
/// tensors' own device. <see cref="Measure"/> L2-normalises its inputs first, so raw features may be passed;
/// <see cref="MeasureAsGiven"/> measures vectors where they are (the mean-centered baseline before renormalising).
/// </summary>
public static class GapGeometry
{
    /// <summary>Every measure of <see cref="GapMeasures"/> for the normalised rows <c>image[i]</c> and <c>text[i]</c>.</summary>
    /// <param name="image">[N, D] image embeddings.</param>
    /// <param name="text">[N, D] text embeddings of the matched captions.</param>
    public static GapMeasures Measure(Tensor image, Tensor text)
    {
        CheckPairs(image, text, minimum: 2);
        using var scope = NewDisposeScope();
        return MeasureOwned(NormalisedCopy(image), NormalisedCopy(text), unitRows: true);
    }

    /// <summary>
    /// The measures of vectors that are not unit rows, taken as they are: the distances (G_R, G_C, G_D, Frechet,
    /// spreads) on the vectors themselves; the cosines (cos_pair, rmg, cosine spreads) are scale-free per row.
    /// Used for the mean-centered baseline before renormalising, where G_C = 0 and G_D equals the base's.
    /// </summary>
    public static GapMeasures MeasureAsGiven(Tensor image, Tensor text)
    {
        CheckPairs(image, text, minimum: 2);
        using var scope = NewDisposeScope();
        return MeasureOwned(image.to(ScalarType.Float64, copy: true), text.to(ScalarType.Float64, copy: true), unitRows: false);
    }

    /// <param name="x">[N, D] float64, a private copy that is changed in place.</param>
    /// <param name="unitRows">The rows are unit vectors, so dot products are cosines.</param>
    private static GapMeasures MeasureOwned(Tensor x, Tensor y, bool unitRows)
    {
        // Large N: x, y and one or two [N, D] float64 temporaries live at once; everything else is [D] or [D, D].
        var n = x.shape[0];
        var muX = x.mean([0]);                                        // [D]
        var muY = y.mean([0]);
        var centroid = (muX - muY).norm().item<double>();

        double raw, distribution;
        using (var d = x - y)                                         // [N, D] pair differences
        {
            raw = d.norm().item<double>() / Math.Sqrt(n);
            // (x_i - mu_x) - (y_i - mu_y) = d_i - mean(d)
            distribution = d.sub_(d.mean([0])).norm().item<double>() / Math.Sqrt(n);
        }
        var (cosPair, cosImage, cosText) = unitRows ? Cosines(x, y) : CosinesOfDirections(x, y);

        // Schrodi et al.: m from matched pairs, d_I and d_T from distinct pairs within each modality.
        var m = 1 - (cosPair + 1) / 2;
        var dImage = 1 - (cosImage + 1) / 2;
        var dText = 1 - (cosText + 1) / 2;
        var rmg = m / (m + (dImage + dText) / 2);

        x.sub_(muX);                                                  // centred in place: x and y are private copies
        y.sub_(muY);
        var traceX = Math.Pow(x.norm().item<double>(), 2) / n;        // tr S_x, population covariance
        var traceY = Math.Pow(y.norm().item<double>(), 2) / n;
        var mismatch = traceX + traceY == 0 ? double.NaN : distribution * distribution / (traceX + traceY);
        var frechetCov = FrechetTraceTerm(x, y);
        return new GapMeasures(raw, centroid, distribution, cosPair, centroid * centroid + frechetCov, frechetCov, rmg,
            new CloudSpread(traceX, 1 - cosImage), new CloudSpread(traceY, 1 - cosText), mismatch);
    }

    /// <summary>Mean cosine of matched pairs and of distinct pairs within each cloud, for unit rows.</summary>
    private static (double Pair, double Image, double Text) Cosines(Tensor x, Tensor y)
    {
        using var products = x * y;
        return (products.sum().item<double>() / x.shape[0], MeanCosineOfDistinctPairs(x), MeanCosineOfDistinctPairs(y));
    }

    /// <summary><see cref="Cosines"/> of rows that are not unit vectors (normalised copies, freed at once).</summary>
    private static (double Pair, double Image, double Text) CosinesOfDirections(Tensor x, Tensor y)
    {
        using var ux = NormalisedCopy(x);
        using var uy = NormalisedCopy(y);
        return Cosines(ux, uy);
    }

    /// <summary>
    /// Per-modality mean-centering of the normalised embeddings, without renormalising: the vectors whose gap
    /// geometry METHOD.md's identity speaks of (G_C = 0, G_D unchanged). New [N, D] float64 tensors the caller owns.
    /// </summary>
    public static (Tensor Image, Tensor Text) Centered(Tensor image, Tensor text)
    {
        CheckPairs(image, text, minimum: 1);
        using var scope = NewDisposeScope();
        var x = Normalise(image);
        var y = Normalise(text);
        return ((x - x.mean([0])).MoveToOuterDisposeScope(), (y - y.mean([0])).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The post-hoc baseline as a model would use it: <see cref="Centered"/>, then renormalised (the cosine space
    /// every task metric works in). Returns new [N, D] tensors (float64, the inputs' device) that the caller owns.
    /// </summary>
    public static (Tensor Image, Tensor Text) MeanCentered(Tensor image, Tensor text)
    {
        CheckPairs(image, text, minimum: 1);
        using var scope = NewDisposeScope();
        var x = Normalise(image);
        var y = Normalise(text);
        var cx = nn.functional.normalize(x - x.mean([0]), p: 2, dim: 1);
        var cy = nn.functional.normalize(y - y.mean([0]), p: 2, dim: 1);
        return (cx.MoveToOuterDisposeScope(), cy.MoveToOuterDisposeScope());
    }

    /// <summary>Row-wise L2 normalisation in float64 (the definition of x_i and y_i in METHOD.md).</summary>
    public static Tensor Normalise(Tensor features)
    {
        using var f64 = features.to_type(ScalarType.Float64);
        return nn.functional.normalize(f64, p: 2, dim: 1);
    }

    /// <summary><see cref="Normalise"/> into a new buffer, never an alias of the input, so it may be changed in place.</summary>
    private static Tensor NormalisedCopy(Tensor features)
    {
        var copy = features.to(ScalarType.Float64, copy: true);
        using var norms = copy.norm(1, keepdim: true).clamp_min_(1e-12);
        return copy.div_(norms);
    }

    /// <summary>
    /// Tr(S_x + S_y - 2 (S_x^½ S_y S_x^½)^½) with 1/(N-1) covariances of the centred clouds. The outer square
    /// root's trace is the sum of square roots of the eigenvalues of the symmetric PSD matrix
    /// S_x^½ S_y S_x^½; eigenvalues that rounding made slightly negative are clamped to 0.
    /// </summary>
    private static double FrechetTraceTerm(Tensor xc, Tensor yc)
    {
        var n = xc.shape[0];
        var sx = xc.t().matmul(xc) / (n - 1);                         // [D, D]
        var sy = yc.t().matmul(yc) / (n - 1);
        var rootSx = SymmetricSqrt(sx);
        var inner = rootSx.matmul(sy).matmul(rootSx);
        inner = (inner + inner.t()) / 2;                              // symmetric up to rounding; make it exact
        var traceRoot = linalg.eigvalsh(inner).clamp_min(0).sqrt().sum().item<double>();
        return sx.trace().item<double>() + sy.trace().item<double>() - 2 * traceRoot;
    }

    private static Tensor SymmetricSqrt(Tensor symmetric)
    {
        var (values, vectors) = linalg.eigh(symmetric);
        return (vectors * values.clamp_min(0).sqrt()).matmul(vectors.t());
    }

    /// <summary>
    /// Mean of cos(x_i, x_j) over i != j from sums, O(N D): sum_{i != j} x_i.x_j = ||sum_i x_i||^2 - sum_i ||x_i||^2.
    /// </summary>
    private static double MeanCosineOfDistinctPairs(Tensor x)
    {
        var n = x.shape[0];
        var total = x.sum([0]).square().sum().item<double>();
        var diagonal = Math.Pow(x.norm().item<double>(), 2);
        return (total - diagonal) / ((double)n * (n - 1));
    }

    internal static void CheckPairs(Tensor image, Tensor text, int minimum)
    {
        if (image.dim() != 2 || text.dim() != 2)
            throw new ArgumentException($"embeddings must be [N, D] matrices, got image {Shape(image)} and text {Shape(text)}");
        if (image.shape[0] != text.shape[0] || image.shape[1] != text.shape[1])
            throw new ArgumentException($"image and text embeddings must be matched pairs of the same shape, got {Shape(image)} and {Shape(text)}");
        if (image.shape[0] < minimum)
            throw new ArgumentException($"at least {minimum} pairs are needed, got {image.shape[0]}");
        if (image.device_type != text.device_type || image.device_index != text.device_index)
            throw new ArgumentException($"image and text embeddings are on different devices ({image.device} and {text.device})");
    }

    internal static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
