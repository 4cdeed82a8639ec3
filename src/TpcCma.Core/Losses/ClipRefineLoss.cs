using static TorchSharp.torch;

namespace TpcCma.Losses;

/// <summary>
/// The frozen starting model's view of the batch: normalised features and its temperature. CLIP-Refine distils from
/// all three; AlignCLIP reads only <see cref="TextFeatures"/> (its caption distances), so its view has no image
/// features or temperature and the frozen image tower is not run.
/// </summary>
public sealed record TeacherView(Tensor? ImageFeatures, Tensor TextFeatures, Tensor? Scale)
{
    /// <summary>A view of the captions alone.</summary>
    public static TeacherView CaptionsOnly(Tensor textFeatures) => new(null, textFeatures, null);
}

/// <summary>
/// CLIP-Refine (Yamaguchi et al., "Post-pre-training for Modality Alignment in Vision-Language Foundation Models",
/// CVPR 2025) in the form of docs/METHOD.md, "Peer methods":
/// <c>L = L_HyCD + rafa_weight * L_RaFA</c>.
/// RaFA pulls both modalities of pair i toward one shared random reference <c>z_i ~ N(0, I)</c>, drawn per batch:
/// <c>L_RaFA = (1 / 2B) sum_i (||x_i - z_i||^2 + ||y_i - z_i||^2)</c>.
/// HyCD is CLIP's symmetric cross-entropy against soft targets that mix the one-hot with the frozen initial model's
/// similarity distribution: <c>q_i = alpha e_i + (1 - alpha) softmax(s0 x0_i . y0^T)</c> (and its transpose for captions).
/// </summary>
public static class ClipRefineLoss
{
    /// <summary>The random feature alignment term for references <paramref name="references"/> ([B, E]).</summary>
    public static Tensor Rafa(Tensor imageFeatures, Tensor textFeatures, Tensor references)
    {
        ClipLoss.CheckPair(imageFeatures, textFeatures);
        var b = imageFeatures.shape[0];
        return ((imageFeatures - references).square().sum() + (textFeatures - references).square().sum()) / (2.0 * b);
    }

    /// <summary>The hybrid contrastive distillation term; <paramref name="alpha"/> is the one-hot's weight in the targets.</summary>
    public static Tensor Hycd(Tensor imageFeatures, Tensor textFeatures, Tensor scale, TeacherView teacher, double alpha)
    {
        ClipLoss.CheckPair(imageFeatures, textFeatures);
        if (!double.IsFinite(alpha) || alpha < 0 || alpha > 1) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "must be in [0, 1]");
        var b = imageFeatures.shape[0];
        var logits = scale.clamp_max(ClipLoss.MaxScale) * imageFeatures.matmul(textFeatures.t());                       // [B, B], row i = image i
        if (teacher.ImageFeatures is not { } teacherImages || teacher.Scale is not { } teacherScale)
            throw new ArgumentException("HyCD distils the frozen model's image-text similarities: its view needs image features and a temperature", nameof(teacher));
        var teacherLogits = (teacherScale.clamp_max(ClipLoss.MaxScale) * teacherImages.matmul(teacher.TextFeatures.t())).detach();
        var oneHot = eye(b, dtype: logits.dtype, device: logits.device);
        var imageTargets = alpha * oneHot + (1 - alpha) * teacherLogits.softmax(1);
        var textTargets = alpha * oneHot + (1 - alpha) * teacherLogits.t().softmax(1);
        var imageLoss = -(imageTargets * logits.log_softmax(1)).sum(1).mean();
        var textLoss = -(textTargets * logits.t().log_softmax(1)).sum(1).mean();
        return (imageLoss + textLoss) / 2;
    }

    /// <summary>The whole CLIP-Refine objective for given references.</summary>
    public static (Tensor Total, Tensor Hycd, Tensor Rafa) Compute(Tensor imageFeatures, Tensor textFeatures, Tensor scale,
        TeacherView teacher, Tensor references, double alpha, double rafaWeight)
    {
        var hycd = Hycd(imageFeatures, textFeatures, scale, teacher, alpha);
        var rafa = Rafa(imageFeatures, textFeatures, references);
        return (hycd + rafaWeight * rafa, hycd, rafa);
    }

    /// <summary>One batch's references, standard normal, from torch's global generator (which checkpoints save).</summary>
    public static Tensor DrawReferences(Tensor like) => randn(like.shape, dtype: like.dtype, device: like.device);
}
