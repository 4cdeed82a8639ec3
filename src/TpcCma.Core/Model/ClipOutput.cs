using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>
/// What <see cref="ClipModel.forward(Tensor, Tensor)"/> returns: L2-normalised image and text features [B, E] and
/// the logit scale <c>exp(logit_scale)</c> clamped to at most 100 (open_clip convention). Losses build logits from these.
/// </summary>
public sealed record ClipOutput(Tensor ImageFeatures, Tensor TextFeatures, Tensor LogitScale) : IDisposable
{
    public void Dispose()
    {
        ImageFeatures.Dispose();
        TextFeatures.Dispose();
        LogitScale.Dispose();
    }
}
