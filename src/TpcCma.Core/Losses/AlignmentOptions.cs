namespace TpcCma.Losses;

/// <summary>Which cross-modal alignment term the objective uses (docs/METHOD.md, "CMA variants").</summary>
public enum CmaVariant
{
    /// <summary><c>L_cent + lambda_dist L_dist</c>: a pull of each image onto its caption.</summary>
    Pairwise,
    /// <summary><c>lambda_geom L_geom</c>: the image-image similarity matrix matched to the text-text one (CyCLIP in-modal consistency).</summary>
    Geometry,
    /// <summary>Both of the above, summed.</summary>
    PairwiseGeometry,
}

/// <summary>Which fine-tuning method a job runs (docs/METHOD.md, "Peer methods").</summary>
public enum AlignMethod
{
    /// <summary>This project's method: the curriculum's share alpha of the pull goes to the chosen CMA term.</summary>
    TpcCma,
    /// <summary>m^2-Mix: <c>L_clip + m2mix_weight L_m2mix</c> at every step; the curriculum's alpha is not used.</summary>
    M2mix,
    /// <summary>CLIP-Refine: <c>L_HyCD + clip_refine_rafa_weight L_RaFA</c> against a frozen copy of the starting model.</summary>
    ClipRefine,
    /// <summary>AlignCLIP's intra-modality separation: <c>L_clip + align_clip_weight L_IMSep</c>, semantic distances from a frozen copy of the starting model.</summary>
    AlignClip,
}

/// <summary>How the contrastive term weighs the negatives of each row (docs/METHOD.md, "Hard negatives").</summary>
public enum NegativeWeighting
{
    /// <summary>CLIP's InfoNCE: every negative counts once.</summary>
    Uniform,
    /// <summary>HN-NCE: negatives up-weighted by <c>exp(beta * logit)</c>, normalised to mean 1 per row.</summary>
    Reweighted,
}

/// <summary>Everything that shapes one step's objective; taken from the job spec unchanged.</summary>
/// <param name="Cma">The alignment term.</param>
/// <param name="LambdaDist">Weight of L_dist inside the pairwise term.</param>
/// <param name="LambdaCov">Weight of <c>||S_x - S_y||_F^2</c>, added to every variant; 0 leaves it a detached diagnostic.</param>
/// <param name="LambdaGeom">Weight of L_geom in the geometry variants.</param>
/// <param name="LambdaUnif">Weight of the uniformity term (spread preservation), added to every variant; 0: off.</param>
/// <param name="Negatives">Uniform or hardness-reweighted negatives in L_clip.</param>
/// <param name="NegativesBeta">Hardness beta of the reweighted negatives (0 gives CLIP's loss exactly).</param>
/// <param name="WMax">Cap of the gradient-share weight w.</param>
/// <param name="Method">TPC-CMA (default) or one of the peer methods.</param>
/// <param name="M2MixWeight">Weight of the m^2-Mix term when <paramref name="Method"/> is m2mix.</param>
/// <param name="ClipRefineAlpha">Weight of the one-hot in CLIP-Refine's hybrid targets (the rest is the frozen model's distribution).</param>
/// <param name="ClipRefineRafaWeight">Weight of CLIP-Refine's random feature alignment term.</param>
/// <param name="AlignClipWeight">Weight of AlignCLIP's intra-modality separation term.</param>
public sealed record ObjectiveOptions(
    CmaVariant Cma = CmaVariant.Pairwise, double LambdaDist = 1.0, double LambdaCov = 0.0, double LambdaGeom = 1.0,
    double LambdaUnif = 0.0, NegativeWeighting Negatives = NegativeWeighting.Uniform, double NegativesBeta = 0.5,
    double WMax = 100.0, AlignMethod Method = AlignMethod.TpcCma, double M2MixWeight = 1.0,
    double ClipRefineAlpha = 0.5, double ClipRefineRafaWeight = 1.0, double AlignClipWeight = 0.5)
{
    /// <summary>The invalid arguments, by parameter name; empty when valid.</summary>
    public IEnumerable<(string Name, string Message)> Problems()
    {
        if (!Enum.IsDefined(Cma)) yield return (nameof(Cma), "is not a known CMA variant");
        if (!Enum.IsDefined(Negatives)) yield return (nameof(Negatives), "is not a known negative weighting");
        if (!Enum.IsDefined(Method)) yield return (nameof(Method), "is not a known method");
        if (!double.IsFinite(M2MixWeight) || M2MixWeight < 0) yield return (nameof(M2MixWeight), $"must be finite and >= 0, got {M2MixWeight}");
        if (!double.IsFinite(ClipRefineAlpha) || ClipRefineAlpha < 0 || ClipRefineAlpha > 1) yield return (nameof(ClipRefineAlpha), $"must be in [0, 1], got {ClipRefineAlpha}");
        if (!double.IsFinite(ClipRefineRafaWeight) || ClipRefineRafaWeight < 0) yield return (nameof(ClipRefineRafaWeight), $"must be finite and >= 0, got {ClipRefineRafaWeight}");
        if (!double.IsFinite(AlignClipWeight) || AlignClipWeight < 0) yield return (nameof(AlignClipWeight), $"must be finite and >= 0, got {AlignClipWeight}");
        foreach (var (name, value) in new[] { (nameof(LambdaDist), LambdaDist), (nameof(LambdaCov), LambdaCov), (nameof(LambdaGeom), LambdaGeom), (nameof(LambdaUnif), LambdaUnif), (nameof(NegativesBeta), NegativesBeta) })
            if (!double.IsFinite(value) || value < 0) yield return (name, $"must be finite and >= 0, got {value}");
        if (!double.IsFinite(WMax) || WMax <= 0) yield return (nameof(WMax), $"must be finite and > 0, got {WMax}");
    }

    /// <summary>Whether the method reads the frozen starting model's view of each batch.</summary>
    public bool NeedsTeacher => Method is AlignMethod.ClipRefine or AlignMethod.AlignClip;

    /// <summary>Whether the chosen variant includes the pairwise pull / the geometry term.</summary>
    public bool UsesPairwise => Cma is CmaVariant.Pairwise or CmaVariant.PairwiseGeometry;
    public bool UsesGeometry => Cma is CmaVariant.Geometry or CmaVariant.PairwiseGeometry;
}
