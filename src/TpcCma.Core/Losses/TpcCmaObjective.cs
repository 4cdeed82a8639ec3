using static TorchSharp.torch;

namespace TpcCma.Losses;

/// <summary>
/// Every part of one step's objective, all 0-d tensors that still live in the step's dispose scope.
/// <c>ClipPull</c> = a, <c>CmaPull</c> = b, <c>Weight</c> = w of docs/METHOD.md; those three carry no gradient.
/// <c>Cma</c> is the chosen alignment term (<see cref="CmaVariant"/>) with its spread and covariance terms.
/// <c>Geometry</c> (L_geom) and <c>Uniformity</c> (L_unif) are null unless the variant or their weight puts them in
/// the objective: a term is computed only when it is optimised. <c>Centroid</c>, <c>Distribution</c> and
/// <c>Covariance</c> are always computed (the trainer logs them for every method).
/// </summary>
public sealed record ObjectiveParts(
    Tensor Total, Tensor Clip, Tensor Centroid, Tensor Distribution, Tensor Covariance, Tensor Cma,
    Tensor ClipPull, Tensor CmaPull, Tensor Weight, Tensor? Geometry = null, Tensor? Uniformity = null);

/// <summary>
/// The TPC-CMA objective with gradient-aware scaling (docs/METHOD.md, "Gradient-aware scheduling"):
/// <c>L = (1 - alpha) L_clip + alpha w L_cma</c> with <c>w = min(a / b, w_max)</c> held constant, where
/// a and b are the norms of the gradients of L_clip and L_cma with respect to the normalised embeddings.
/// Then the alignment pull <c>alpha w b</c> equals <c>alpha a</c> (unless w is capped), so alpha is the
/// share of the pull on the embeddings that goes to alignment. L_cma is whichever variant the options choose
/// (docs/METHOD.md, "CMA variants") and L_clip uses uniform or hardness-reweighted negatives; w treats them alike.
/// </summary>
public sealed class TpcCmaObjective
{
    private readonly ObjectiveOptions options;

    /// <summary>The pairwise objective with uniform negatives (the default variant).</summary>
    public TpcCmaObjective(double lambdaDist, double lambdaCov, double wMax)
        : this(new ObjectiveOptions(LambdaDist: lambdaDist, LambdaCov: lambdaCov, WMax: wMax))
    {
    }

    public TpcCmaObjective(ObjectiveOptions options)
    {
        foreach (var (name, message) in options.Problems())
            throw new ArgumentOutOfRangeException(char.ToLowerInvariant(name[0]) + name[1..], message);
        this.options = options;
    }

    /// <param name="imageFeatures">L2-normalised x, [B, E], part of the autograd graph (requires grad).</param>
    /// <param name="textFeatures">L2-normalised y, [B, E], part of the autograd graph.</param>
    /// <param name="scale">The temperature <c>exp(logit_scale)</c>, 0-d.</param>
    /// <param name="alpha">The alignment share from the curriculum, in [0, 1).</param>
    /// <param name="teacher">The frozen starting model's features of the same batch; required by clip_refine and align_clip, unused otherwise.</param>
    public ObjectiveParts Compute(Tensor imageFeatures, Tensor textFeatures, Tensor scale, double alpha, TeacherView? teacher = null)
    {
        if (!double.IsFinite(alpha) || alpha < 0 || alpha >= 1) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "must be in [0, 1)");
        if (!imageFeatures.requires_grad || !textFeatures.requires_grad)
            throw new ArgumentException("the objective measures gradients on the embeddings: both feature tensors must require grad");
        var clip = options.Negatives == NegativeWeighting.Reweighted
            ? HardNegativeClipLoss.Compute(imageFeatures, textFeatures, scale, options.NegativesBeta)
            : ClipLoss.Compute(imageFeatures, textFeatures, scale);
        if (options.Method == AlignMethod.M2mix) return M2Mix(imageFeatures, textFeatures, scale, clip);
        if (options.Method == AlignMethod.ClipRefine)
            return ClipRefine(imageFeatures, textFeatures, scale, clip, teacher ?? throw new ArgumentNullException(nameof(teacher), "clip_refine distils from the frozen starting model: pass its view of the batch"));
        if (options.Method == AlignMethod.AlignClip)
            return AlignClip(imageFeatures, textFeatures, scale, clip, teacher ?? throw new ArgumentNullException(nameof(teacher), "align_clip reads caption distances from the frozen starting model: pass its view of the batch"));
        var (pairwise, cma, geometry, uniformity) = Alignment(imageFeatures, textFeatures);
        // Two short backward passes that stop at the embeddings; the graph is kept for the real backward.
        var a = Pull(clip, imageFeatures, textFeatures);
        var b = Pull(cma, imageFeatures, textFeatures);
        // b = 0 (gap already closed) gives a / b = inf, which the cap turns into w_max; 0 / 0 would be NaN.
        var w = where(b > 0, (a / b).clamp_max(options.WMax), full_like(b, options.WMax));
        var total = (1 - alpha) * clip + alpha * w * cma;
        return new ObjectiveParts(total, clip, pairwise.Centroid, pairwise.Distribution, pairwise.Covariance, cma, a, b, w, geometry, uniformity);
    }

    // The m^2-Mix baseline (docs/METHOD.md, "Peer methods"): L_clip + weight L_m2mix with lambda ~ Beta(1/2, 1/2)
    // drawn from torch's global generator, whose state every checkpoint saves, so a resumed run draws the same
    // lambdas. No share rule: w is the fixed weight; a and b are still measured and logged.
    private ObjectiveParts M2Mix(Tensor x, Tensor y, Tensor scale, Tensor clip)
    {
        var mix = M2MixLoss.Compute(x, y, scale, M2MixLoss.DrawLambda());
        return PeerParts(clip + options.M2MixWeight * mix, clip, mix, options.M2MixWeight, x, y);
    }

    // The CLIP-Refine baseline (docs/METHOD.md, "Peer methods"): L_HyCD + rafa_weight L_RaFA, the references drawn
    // from torch's global generator (saved by checkpoints, so a resumed run draws the same ones). L_HyCD replaces
    // L_clip, which is still reported (and a measured from it); the logged cma is L_RaFA, w its fixed weight.
    private ObjectiveParts ClipRefine(Tensor x, Tensor y, Tensor scale, Tensor clip, TeacherView teacher)
    {
        var references = ClipRefineLoss.DrawReferences(x);
        var (total, _, rafa) = ClipRefineLoss.Compute(x, y, scale, teacher, references, options.ClipRefineAlpha, options.ClipRefineRafaWeight);
        return PeerParts(total, clip, rafa, options.ClipRefineRafaWeight, x, y);
    }

    // The AlignCLIP baseline (docs/METHOD.md, "Peer methods"): L_clip + weight L_IMSep, the caption distances D from the
    // frozen starting model's text features (standing in for the authors' frozen sentence encoder). No share rule:
    // w is the fixed weight; a and b are still measured and logged.
    private ObjectiveParts AlignClip(Tensor x, Tensor y, Tensor scale, Tensor clip, TeacherView teacher)
    {
        var separation = AlignClipLoss.Separation(x, y, scale, AlignClipLoss.SemanticDistances(teacher.TextFeatures));
        return PeerParts(clip + options.AlignClipWeight * separation, clip, separation, options.AlignClipWeight, x, y);
    }

    // L_cma of the chosen variant (docs/METHOD.md, "CMA variants"). The default (pairwise) keeps exactly the
    // operations of CmaLoss.Total, so its values do not move by a bit. The geometry and uniformity terms are computed
    // only when they are part of L_cma (each costs B x B work per step); unused, they are null.
    private (CmaParts Pairwise, Tensor Cma, Tensor? Geometry, Tensor? Uniformity) Alignment(Tensor x, Tensor y)
    {
        var pairwise = CmaLoss.Compute(x, y, options.LambdaDist, options.LambdaCov);
        var geometry = options.UsesGeometry ? GeometryLoss.Compute(x, y) : null;
        var uniformity = options.LambdaUnif > 0 ? UniformityLoss.Compute(x, y) : null;
        Tensor? cma = null;
        if (options.UsesPairwise) cma = pairwise.Total;   // L_cent + lambda_dist L_dist (+ lambda_cov L_cov)
        else if (options.LambdaCov > 0) cma = options.LambdaCov * pairwise.Covariance;
        if (geometry is not null) cma = cma is null ? options.LambdaGeom * geometry : cma + options.LambdaGeom * geometry;
        if (uniformity is not null) cma = cma is null ? options.LambdaUnif * uniformity : cma + options.LambdaUnif * uniformity;
        // Validation refuses a spec with nothing to align; a hand-built option set gets a zero term that pulls nothing.
        return (pairwise, cma ?? zeros_like(pairwise.Centroid), geometry, uniformity);
    }

    // ||dL/d(x,y)||: the norm of the gradient with respect to both embedding matrices taken together.
    // What the peer methods report alike: their own term in the cma slot, measured like L_cma (a from CLIP's loss, b
    // from the term, w the fixed weight), and the pairwise L_cma's parts, logged only.
    private ObjectiveParts PeerParts(Tensor total, Tensor clip, Tensor term, double weight, Tensor x, Tensor y)
    {
        var a = Pull(clip, x, y);
        var b = Pull(term, x, y);
        var w = full_like(b, weight);
        var pairwise = CmaLoss.Compute(x.detach(), y.detach(), options.LambdaDist, options.LambdaCov);
        return new ObjectiveParts(total, clip, pairwise.Centroid, pairwise.Distribution, pairwise.Covariance, term, a, b, w);
    }

    private static Tensor Pull(Tensor loss, Tensor x, Tensor y)
    {
        var grads = autograd.grad([loss], [x, y], retain_graph: true);
        return (grads[0].square().sum() + grads[1].square().sum()).sqrt().detach();
    }
}
