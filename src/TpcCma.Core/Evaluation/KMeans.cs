using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>Settings of <see cref="KMeans"/>; the defaults are scikit-learn's <c>KMeans(n_init=10)</c>.</summary>
/// <param name="Restarts">Independent k-means++ starts; the one with the lowest inertia wins.</param>
/// <param name="MaxIterations">Lloyd iterations at most per start.</param>
/// <param name="Tolerance">Convergence when the squared centre shift summed over centres is at most
/// Tolerance times the mean per-feature variance of the data (scikit-learn's relative <c>tol</c>).</param>
/// <param name="Seed">Seeds every random draw; the same seed gives the same clustering.</param>
/// <param name="Precision">Float32 (fast, default) or Float64 for distances and centres.</param>
public sealed record KMeansOptions(
    int Restarts = 10, int MaxIterations = 300, double Tolerance = 1e-4, long Seed = 0,
    ScalarType Precision = ScalarType.Float32);

/// <summary>The best of the restarts.</summary>
/// <param name="Labels">Cluster index of each point, 0..k-1.</param>
/// <param name="Inertia">Sum of squared distances of the points to their centres.</param>
/// <param name="Iterations">Lloyd iterations of the winning start.</param>
public sealed record KMeansResult(long[] Labels, double Inertia, int Iterations);

/// <summary>
/// k-means as scikit-learn 1.2 runs it: greedy k-means++ seeding (2 + ln k local trials per centre), Lloyd
/// iterations with its convergence rule and empty-cluster relocation, several restarts, best inertia. Runs
/// on the points' device; distances are <c>||x||^2 - 2 x.c + ||c||^2</c> with one matmul per step.
/// </summary>
public static class KMeans
{
    /// <param name="points">[N, D] points (any floating type, any device).</param>
    /// <param name="k">Number of clusters, 1..N.</param>
    public static KMeansResult Fit(Tensor points, int k, KMeansOptions? options = null)
    {
        options ??= new KMeansOptions();
        if (points.dim() != 2) throw new ArgumentException($"points must be an [N, D] matrix, got {GapGeometry.Shape(points)}");
        if (k < 1 || k > points.shape[0]) throw new ArgumentException($"k must be between 1 and the number of points ({points.shape[0]}), got {k}");
        if (options.Restarts < 1) throw new ArgumentException($"Restarts must be at least 1, got {options.Restarts}");
        if (options.MaxIterations < 1) throw new ArgumentException($"MaxIterations must be at least 1, got {options.MaxIterations}");
        if (options.Precision is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"Precision must be Float32 or Float64, got {options.Precision}");

        using var scope = NewDisposeScope();
        // Centre the data first, as scikit-learn does: it keeps ||x||^2 - 2 x.c + ||c||^2 accurate.
        var x64 = points.to_type(ScalarType.Float64);
        var x = (x64 - x64.mean([0])).to_type(options.Precision);            // [N, D]
        var squaredNorms = x.square().sum(1);                                 // [N]
        var tolerance = options.Tolerance * x64.var(0, unbiased: false).mean().item<double>();

        using var generator = new Generator((ulong)options.Seed);
        var seeds = KMeansPlusPlus.Seed(x, squaredNorms, k, options.Restarts, generator);   // [R, k, D]
        KMeansResult? best = null;
        for (var r = 0; r < options.Restarts; r++)
        {
            using var restartScope = NewDisposeScope();
            var result = Lloyd(x, squaredNorms, seeds[r], options.MaxIterations, tolerance);
            if (best is null || result.Inertia < best.Inertia) best = result;
        }
        return best!;
    }

    private static KMeansResult Lloyd(Tensor x, Tensor squaredNorms, Tensor initialCentres, int maxIterations, double tolerance)
    {
        var centres = initialCentres.alias();
        Tensor? previousLabels = null;
        var iterations = 0;
        while (iterations < maxIterations)
        {
            iterations++;
            using var step = NewDisposeScope();   // the [N, k] distances are large: free them each iteration
            var (labels, distances) = Assign(x, squaredNorms, centres);
            var next = UpdateCentres(x, labels, distances, centres.shape[0]);
            var shift = (next - centres).square().sum().to_type(ScalarType.Float64).item<double>();
            var converged = previousLabels is not null && labels.eq(previousLabels).all().item<bool>();   // strict convergence
            centres.Dispose();
            previousLabels?.Dispose();
            centres = next.MoveToOuterDisposeScope();
            previousLabels = labels.MoveToOuterDisposeScope();
            if (converged || shift <= tolerance) break;
        }
        // Assign once more so the labels match the final centres (a no-op after strict convergence).
        var (finalLabels, finalDistances) = Assign(x, squaredNorms, centres);
        var inertia = finalDistances.to_type(ScalarType.Float64).sum().item<double>();
        return new KMeansResult(finalLabels.cpu().data<long>().ToArray(), inertia, iterations);
    }

    /// <summary>Nearest centre of each point and the squared distance to it.</summary>
    internal static (Tensor Labels, Tensor Distances) Assign(Tensor x, Tensor squaredNorms, Tensor centres)
    {
        var distances = SquaredDistances(x, squaredNorms, centres);           // [N, k]
        var (minimum, labels) = distances.min(1);
        return (labels, minimum);
    }

    /// <summary>[N, k] squared distances, clamped at 0 against rounding.</summary>
    internal static Tensor SquaredDistances(Tensor x, Tensor squaredNorms, Tensor centres) =>
        (squaredNorms.unsqueeze(1) - 2 * x.matmul(centres.t()) + centres.square().sum(1).unsqueeze(0)).clamp_min(0);

    /// <summary>
    /// Means of the assigned points. A cluster left empty takes the point farthest from its centre, and
    /// that point leaves its old cluster's mean (scikit-learn's relocation).
    /// </summary>
    private static Tensor UpdateCentres(Tensor x, Tensor labels, Tensor distances, long k)
    {
        var sums = zeros(k, x.shape[1], dtype: x.dtype, device: x.device).index_add_(0, labels, x, 1.0);   // [k, D]
        var counts = bincount(labels, minlength: k).to_type(x.dtype);                               // [k]
        var empty = nonzero(counts.eq(0)).flatten();
        if (empty.shape[0] > 0)
        {
            var emptyClusters = empty.cpu().data<long>().ToArray();
            var farthest = distances.topk(emptyClusters.Length).indexes.cpu().data<long>().ToArray();
            for (var i = 0; i < emptyClusters.Length; i++)
            {
                var oldCluster = labels[farthest[i]].item<long>();
                sums[oldCluster].sub_(x[farthest[i]]);
                counts[oldCluster].sub_(1);
                sums[emptyClusters[i]].copy_(x[farthest[i]]);
                counts[emptyClusters[i]].fill_(1);
            }
        }
        return sums / counts.clamp_min(1).unsqueeze(1);
    }
}
