using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TpcCma.Training;

/// <summary>
/// PyTorch's <c>clip_grad_norm_</c> kept on the device: TorchSharp's version returns a double, which would
/// force a device sync on every step.
/// </summary>
public static class GradientClipping
{
    /// <summary>Scales the gradients in place so their global L2 norm is at most <paramref name="maxNorm"/>.</summary>
    /// <returns>The norm before clipping, a 0-d tensor in the current dispose scope.</returns>
    public static Tensor ClipGlobalNorm(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return zeros([]);
        var total = stack(grads.Select(g => g.norm()).ToArray()).norm();
        var coefficient = (maxNorm / (total + 1e-6)).clamp_max(1.0);   // same epsilon as PyTorch
        foreach (var g in grads) g.mul_(coefficient);
        return total;
    }
}
