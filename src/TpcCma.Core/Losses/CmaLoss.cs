using static TorchSharp.torch;

namespace TpcCma.Losses;

/// <summary>The parts of the cross-modal alignment loss over one batch. All are 0-d tensors.</summary>
/// <param name="Centroid"><c>L_cent = ||mu_x - mu_y||^2</c>.</param>
/// <param name="Distribution"><c>L_dist = (1/B) sum_i ||(x_i - mu_x) - (y_i - mu_y)||^2</c>.</param>
/// <param name="Covariance"><c>||S_x - S_y||_F^2</c>, unweighted; a detached diagnostic when lambda_cov = 0.</param>
/// <param name="Total"><c>L_cma = L_cent + lambda_dist L_dist + lambda_cov ||S_x - S_y||_F^2</c>.</param>
public sealed record CmaParts(Tensor Centroid, Tensor Distribution, Tensor Covariance, Tensor Total);

/// <summary>
/// CMA, the alignment loss of docs/METHOD.md ("Losses"): pulls the two modality centroids together
/// (Centroid Gap) and the centred clouds onto each other pair by pair (Distribution Gap), optionally
/// matching second moments as well.
/// </summary>
public static class CmaLoss
{
    /// <param name="imageFeatures">L2-normalised x, [B, E].</param>
    /// <param name="textFeatures">L2-normalised y, [B, E].</param>
    /// <param name="lambdaDist">Weight of L_dist.</param>
    /// <param name="lambdaCov">Weight of the covariance term; 0 skips it.</param>
    public static CmaParts Compute(Tensor imageFeatures, Tensor textFeatures, double lambdaDist, double lambdaCov)
    {
        ClipLoss.CheckPair(imageFeatures, textFeatures);
        var centredX = imageFeatures - imageFeatures.mean([0], keepdim: true);   // [B, E]
        var centredY = textFeatures - textFeatures.mean([0], keepdim: true);     // [B, E]
        var centroidOffset = imageFeatures.mean([0]) - textFeatures.mean([0]);   // [E]
        var centroid = centroidOffset.square().sum();
        var distribution = (centredX - centredY).square().sum(1).mean();
        // Always reported; it joins the graph only when it is weighted in.
        var covariance = lambdaCov > 0
            ? CovarianceGap(centredX, centredY)
            : CovarianceGap(centredX.detach(), centredY.detach());
        var total = centroid + lambdaDist * distribution;
        if (lambdaCov > 0) total = total + lambdaCov * covariance;
        return new CmaParts(centroid, distribution, covariance, total);
    }

    // ||S_x - S_y||_F^2 with sample covariances (1/(B-1)), as the Frechet diagnostics in METHOD.md use.
    private static Tensor CovarianceGap(Tensor centredX, Tensor centredY) =>
        ((centredX.t().matmul(centredX) - centredY.t().matmul(centredY)) / (centredX.shape[0] - 1)).square().sum();  // from [E, E]
}
