using static TorchSharp.torch;

namespace TpcCma.Losses;

/// <summary>
/// Every part of one step's objective, all 0-d tensors that still live in the step's dispose scope.
/// <c>ClipPull</c> = a, <c>CmaPull</c> = b, <c>Weight</c> = w of docs/METHOD.md; those three carry no gradient.
/// </summary>
public sealed record ObjectiveParts(
    Tensor Total, Tensor Clip, Tensor Centroid, Tensor Distribution, Tensor Covariance, Tensor Cma,
    Tensor ClipPull, Tensor CmaPull, Tensor Weight);

/// <summary>
/// The TPC-CMA objective with gradient-aware scaling (docs/METHOD.md, "Gradient-aware scheduling"):
/// <c>L = (1 - alpha) L_clip + alpha w L_cma</c> with <c>w = min(a / b, w_max)</c> held constant, where
/// a and b are the norms of the gradients of L_clip and L_cma with respect to the normalised embeddings.
/// Then the alignment pull <c>alpha w b</c> equals <c>alpha a</c> (unless w is capped), so alpha is the
/// share of the pull on the embeddings that goes to alignment.
/// </summary>
public sealed class TpcCmaObjective
{
    private readonly double lambdaDist;
    private readonly double lambdaCov;
    private readonly double wMax;

    public TpcCmaObjective(double lambdaDist, double lambdaCov, double wMax)
    {
        if (!double.IsFinite(lambdaDist) || lambdaDist < 0) throw new ArgumentOutOfRangeException(nameof(lambdaDist), lambdaDist, "must be finite and >= 0");
        if (!double.IsFinite(lambdaCov) || lambdaCov < 0) throw new ArgumentOutOfRangeException(nameof(lambdaCov), lambdaCov, "must be finite and >= 0");
        if (!double.IsFinite(wMax) || wMax <= 0) throw new ArgumentOutOfRangeException(nameof(wMax), wMax, "must be finite and > 0");
        (this.lambdaDist, this.lambdaCov, this.wMax) = (lambdaDist, lambdaCov, wMax);
    }

    /// <param name="imageFeatures">L2-normalised x, [B, E], part of the autograd graph (requires grad).</param>
    /// <param name="textFeatures">L2-normalised y, [B, E], part of the autograd graph.</param>
    /// <param name="scale">The temperature <c>exp(logit_scale)</c>, 0-d.</param>
    /// <param name="alpha">The alignment share from the curriculum, in [0, 1).</param>
    public ObjectiveParts Compute(Tensor imageFeatures, Tensor textFeatures, Tensor scale, double alpha)
    {
        if (!double.IsFinite(alpha) || alpha < 0 || alpha >= 1) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "must be in [0, 1)");
        if (!imageFeatures.requires_grad || !textFeatures.requires_grad)
            throw new ArgumentException("the objective measures gradients on the embeddings: both feature tensors must require grad");
        var clip = ClipLoss.Compute(imageFeatures, textFeatures, scale);
        var cma = CmaLoss.Compute(imageFeatures, textFeatures, lambdaDist, lambdaCov);
        // Two short backward passes that stop at the embeddings; the graph is kept for the real backward.
        var a = Pull(clip, imageFeatures, textFeatures);
        var b = Pull(cma.Total, imageFeatures, textFeatures);
        // b = 0 (gap already closed) gives a / b = inf, which the cap turns into w_max; 0 / 0 would be NaN.
        var w = where(b > 0, (a / b).clamp_max(wMax), full_like(b, wMax));
        var total = (1 - alpha) * clip + alpha * w * cma.Total;
        return new ObjectiveParts(total, clip, cma.Centroid, cma.Distribution, cma.Covariance, cma.Total, a, b, w);
    }

    // ||dL/d(x,y)||: the norm of the gradient with respect to both embedding matrices taken together.
    private static Tensor Pull(Tensor loss, Tensor x, Tensor y)
    {
        var grads = autograd.grad([loss], [x, y], retain_graph: true);
        return (grads[0].square().sum() + grads[1].square().sum()).sqrt().detach();
    }
}
