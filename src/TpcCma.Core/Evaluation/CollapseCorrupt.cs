using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>
/// The post-hoc baseline of C3 (Zhang et al., "Connect, Collapse, Corrupt: Learning Cross-Modal Tasks with Uni-Modal
/// Data", ICLR 2024) as every evaluation reports it beside mean-centering (docs/METHOD.md, "Post-hoc baselines"):
/// collapse (centre each modality of the normalised embeddings), corrupt (add Gaussian noise of total scale sigma:
/// each coordinate N(0, sigma^2 / D), so the noise vector's norm is about sigma), renormalise. The noise comes from a
/// generator of its own with a fixed seed, so the same embeddings give the same baseline and the run's RNG is untouched.
/// </summary>
public static class CollapseCorrupt
{
    /// <summary>The noise scale the reports use: a tenth of an embedding's norm.</summary>
    public const double DefaultNoise = 0.1;

    /// <summary>The generator seed of the noise (any fixed value; stated so a reader can redo it).</summary>
    public const long NoiseSeed = 3;

    /// <summary>Collapse, corrupt, renormalise. New [N, D] float64 tensors the caller owns.</summary>
    public static (Tensor Image, Tensor Text) Apply(Tensor image, Tensor text, double noise = DefaultNoise, long seed = NoiseSeed)
    {
        using var scope = NewDisposeScope();
        var (x, y) = GapGeometry.Centered(image, text);
        var generator = new Generator((ulong)seed, x.device);
        var cx = nn.functional.normalize(Corrupt(x, noise, generator), p: 2, dim: 1);
        var cy = nn.functional.normalize(Corrupt(y, noise, generator), p: 2, dim: 1);
        return (cx.MoveToOuterDisposeScope(), cy.MoveToOuterDisposeScope());
    }

    /// <summary><paramref name="features"/> plus noise with per-coordinate standard deviation <c>noise / sqrt(D)</c>.</summary>
    public static Tensor Corrupt(Tensor features, double noise, Generator generator)
    {
        if (!double.IsFinite(noise) || noise < 0) throw new ArgumentOutOfRangeException(nameof(noise), noise, "must be finite and >= 0");
        var d = features.shape[1];
        return features + noise / Math.Sqrt(d) * randn(features.shape, dtype: features.dtype, device: features.device, generator: generator);
    }
}
