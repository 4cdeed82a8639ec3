using static TorchSharp.torch;

namespace TpcCma.Losses;

/// <summary>
/// The semantically regularised intra-modality separation (IMSep) of AlignCLIP (Eslami and de Melo, "Mitigate the Gap:
/// Investigating Approaches for Improving Cross-Modal Alignment in CLIP", ICLR 2025), in the form of the authors'
/// <c>ClipInModalityLoss</c> with both modalities separated: image i is scored against its own caption (the diagonal,
/// <c>s x_i . y_i</c>) and against the other images of the batch, each similarity scaled by how far apart the two
/// captions are in meaning (<c>s D_ij x_i . x_j</c>, j != i); captions the same way with <c>y_i . y_j</c>;
/// cross-entropy against the diagonal, the two directions averaged. Semantically distant samples are pushed apart
/// hardest, near-synonyms barely. docs/METHOD.md, "Peer methods".
/// </summary>
public static class AlignClipLoss
{
    /// <summary>
    /// <c>D_ij = 1 - u_i . u_j</c> with u the normalised rows of <paramref name="captionEmbeddings"/> (a frozen
    /// encoder's view of the batch's captions), the diagonal exactly 0. In [0, 2]; carries no gradient.
    /// </summary>
    public static Tensor SemanticDistances(Tensor captionEmbeddings)
    {
        if (captionEmbeddings.dim() != 2) throw new ArgumentException($"caption embeddings must be [B, E], got [{string.Join(", ", captionEmbeddings.shape)}]");
        var u = nn.functional.normalize(captionEmbeddings.detach(), p: 2, dim: 1);                  // [B, E]
        var diagonal = eye(u.shape[0], dtype: ScalarType.Bool, device: u.device);
        return (1 - u.matmul(u.t())).masked_fill(diagonal, 0);                                      // [B, B]
    }

    /// <summary>L_IMSep for normalised x, y ([B, E]), the temperature <paramref name="scale"/> (clamped to 100) and distances [B, B].</summary>
    public static Tensor Separation(Tensor imageFeatures, Tensor textFeatures, Tensor scale, Tensor distances)
    {
        ClipLoss.CheckPair(imageFeatures, textFeatures);
        var b = imageFeatures.shape[0];
        if (distances.dim() != 2 || distances.shape[0] != b || distances.shape[1] != b)
            throw new ArgumentException($"semantic distances must be [{b}, {b}], got [{string.Join(", ", distances.shape)}]");
        var s = scale.clamp_max(ClipLoss.MaxScale);
        var diagonal = eye(b, dtype: ScalarType.Bool, device: imageFeatures.device);                  // [B, B]
        var paired = (imageFeatures * textFeatures).sum(1, keepdim: true).expand(b, b);              // [B, B], row i = x_i . y_i
        var imageRows = s * where(diagonal, paired, distances * imageFeatures.matmul(imageFeatures.t()));
        var textRows = s * where(diagonal, paired, distances * textFeatures.matmul(textFeatures.t()));
        var labels = arange(b, dtype: ScalarType.Int64, device: imageFeatures.device);
        return (nn.functional.cross_entropy(imageRows, labels) + nn.functional.cross_entropy(textRows, labels)) / 2;
    }
}
