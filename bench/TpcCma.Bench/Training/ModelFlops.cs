using TpcCma.Model;

namespace TpcCma.Bench.Training;

/// <summary>
/// Matrix-product FLOPs of one CLIP forward pass, counted from the architecture (2 FLOPs per multiply-add):
/// patch embedding, per block the QKV, attention scores, attention context, output projection and the MLP,
/// the two projections and the B x B logits. Layer norms, softmax and activations are left out (a few percent).
/// A training step is taken as 3x the forward (the backward computes two products per forward product).
/// </summary>
internal static class ModelFlops
{
    public static double Forward(ClipConfig config, int batch, int textLength)
    {
        double vw = config.VisionWidth, tw = config.TransformerWidth, embed = config.EmbedDim;
        double grid = config.GridSize, patch = config.VisionPatchSize;
        var patchEmbed = 2 * grid * grid * (3 * patch * patch) * vw;
        var vision = patchEmbed + config.VisionLayers * Block(grid * grid + 1, vw) + 2 * vw * embed;
        var text = config.TransformerLayers * Block(textLength, tw) + 2 * tw * embed;
        return batch * (vision + text) + 2.0 * batch * batch * embed;
    }

    public static double TrainingStep(ClipConfig config, int batch, int textLength) => 3 * Forward(config, batch, textLength);

    // One pre-norm block on `tokens` tokens of width w: QKV 6Tw^2, out 2Tw^2, MLP 16Tw^2, scores and context 4T^2w.
    private static double Block(double tokens, double width) => 24 * tokens * width * width + 4 * tokens * tokens * width;
}
