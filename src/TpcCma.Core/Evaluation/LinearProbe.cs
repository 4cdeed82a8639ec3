using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>Settings of the image-vs-text probe. Defaults keep it deterministic and a fraction of a second on CPU.</summary>
/// <param name="HeldOutFraction">Share of the pairs whose two embeddings are scored, never trained on.</param>
/// <param name="Steps">Full-batch Adam steps.</param>
/// <param name="LearningRate">Adam learning rate on standardised features.</param>
/// <param name="WeightDecay">L2 penalty on the weights (not the bias).</param>
/// <param name="MaxPairs">Pairs used at most (a seeded sample); the probe's accuracy settles long before.</param>
/// <param name="Seed">Seeds the pair permutation that makes the split and the sample.</param>
public sealed record LinearProbeOptions(
    double HeldOutFraction = 0.3, int Steps = 150, double LearningRate = 0.1, double WeightDecay = 1e-4,
    int MaxPairs = 5_000, long Seed = 0);

/// <summary>
/// <c>separability</c> of METHOD.md: held-out accuracy of a logistic-regression probe that tells image
/// embeddings from text embeddings. 0.5 means the modalities cannot be told apart linearly; 1.0 means a
/// hyperplane separates them.
/// </summary>
public static class LinearProbe
{
    /// <param name="image">[N, D] image embeddings (normalised here).</param>
    /// <param name="text">[N, D] matched text embeddings.</param>
    public static double Separability(Tensor image, Tensor text, LinearProbeOptions? options = null)
    {
        options ??= new LinearProbeOptions();
        GapGeometry.CheckPairs(image, text, minimum: 2);
        if (options.HeldOutFraction is <= 0 or >= 1) throw new ArgumentException($"HeldOutFraction must be in (0, 1), got {options.HeldOutFraction}");
        if (options.Steps < 1) throw new ArgumentException($"Steps must be at least 1, got {options.Steps}");
        if (options.MaxPairs < 2) throw new ArgumentException($"MaxPairs must be at least 2, got {options.MaxPairs}");

        using var scope = NewDisposeScope();
        var device = image.device;
        // Split by pair, so an image and its caption land on the same side.
        using var generator = new Generator((ulong)options.Seed);
        var order = randperm(image.shape[0], generator: generator).narrow(0, 0, Math.Min(image.shape[0], options.MaxPairs)).to(device);
        var pairs = order.shape[0];
        var heldOut = Math.Clamp((long)Math.Round(pairs * options.HeldOutFraction), 1, pairs - 1);
        var trainPairs = order.narrow(0, heldOut, pairs - heldOut);
        var testPairs = order.narrow(0, 0, heldOut);

        var x = GapGeometry.Normalise(image).to_type(ScalarType.Float32);
        var y = GapGeometry.Normalise(text).to_type(ScalarType.Float32);
        var (trainFeatures, trainTargets) = Stack(x, y, trainPairs);
        var (testFeatures, testTargets) = Stack(x, y, testPairs);

        // Standardise with training statistics: unit-norm embeddings have tiny per-axis spread.
        var mean = trainFeatures.mean([0]);
        var std = trainFeatures.std(0).clamp_min(1e-6);
        trainFeatures = (trainFeatures - mean) / std;
        testFeatures = (testFeatures - mean) / std;

        var weight = new TorchSharp.Modules.Parameter(zeros(x.shape[1], device: device));
        var bias = new TorchSharp.Modules.Parameter(zeros(1, device: device));
        using var optimizer = optim.Adam([weight, bias], lr: options.LearningRate);
        for (var step = 0; step < options.Steps; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = trainFeatures.matmul(weight) + bias;
            var loss = nn.functional.binary_cross_entropy_with_logits(logits, trainTargets)
                       + options.WeightDecay * weight.square().sum();
            loss.backward();
            optimizer.step();
        }

        using (no_grad())
        {
            var predicted = (testFeatures.matmul(weight) + bias).gt(0);
            return predicted.eq(testTargets.gt(0.5)).to_type(ScalarType.Float64).mean().item<double>();
        }
    }

    /// <summary>Image rows of the chosen pairs (target 1) followed by their text rows (target 0).</summary>
    private static (Tensor Features, Tensor Targets) Stack(Tensor x, Tensor y, Tensor pairs)
    {
        var features = cat([x.index_select(0, pairs), y.index_select(0, pairs)], 0);
        var targets = cat([ones(pairs.shape[0], device: x.device), zeros(pairs.shape[0], device: x.device)], 0);
        return (features, targets);
    }
}
