using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>
/// Greedy k-means++ seeding (Arthur and Vassilvitskii 2007, as scikit-learn's <c>_kmeans_plusplus</c>):
/// each new centre is the best of 2 + ln k candidates drawn with probability proportional to the squared
/// distance to the nearest centre so far, "best" meaning the lowest resulting potential. All restarts are
/// seeded together, so each step reads the points once for every restart (O(N k D) overall).
/// </summary>
internal static class KMeansPlusPlus
{
    /// <returns>[R, k, D] initial centres, one set per restart.</returns>
    public static Tensor Seed(Tensor x, Tensor squaredNorms, int k, int restarts, Generator generator)
    {
        var n = x.shape[0];
        var trials = 2 + (int)Math.Log(k);
        var device = x.device;
        using var scope = NewDisposeScope();

        var first = randint(n, [restarts], generator: generator).to(device);                   // [R]
        var chosen = new List<Tensor> { first };
        var closest = Distances(x, squaredNorms, first).to_type(ScalarType.Float64);             // [R, N]
        var potential = closest.sum(1);                                                           // [R]
        for (var c = 1; c < k; c++)
        {
            using var step = NewDisposeScope();   // the [R, T, N] candidate distances are large: free them each step
            var draws = rand([restarts, trials], dtype: ScalarType.Float64, generator: generator).to(device) * potential.unsqueeze(1);
            var candidates = searchsorted(closest.cumsum(1), draws).clamp_max(n - 1);            // [R, T]
            var toCandidates = Distances(x, squaredNorms, candidates.flatten())
                .to_type(ScalarType.Float64).view(restarts, trials, n);                           // [R, T, N]
            var updated = minimum(toCandidates, closest.unsqueeze(1));
            var potentials = updated.sum(2);                                                     // [R, T]
            var best = potentials.argmin(1, keepdim: true);                                      // [R, 1]
            var nextPotential = potentials.gather(1, best).squeeze(1);
            var nextClosest = updated.gather(1, best.unsqueeze(2).expand(restarts, 1, n)).squeeze(1);
            chosen.Add(candidates.gather(1, best).squeeze(1).MoveToOuterDisposeScope());
            potential.Dispose();
            closest.Dispose();
            potential = nextPotential.MoveToOuterDisposeScope();
            closest = nextClosest.MoveToOuterDisposeScope();
        }
        var indices = stack(chosen, 1);                                                           // [R, k]
        return x.index_select(0, indices.flatten()).view(restarts, k, x.shape[1]).MoveToOuterDisposeScope();
    }

    /// <summary>[M, N] squared distances from the points at <paramref name="rows"/> to every point.</summary>
    private static Tensor Distances(Tensor x, Tensor squaredNorms, Tensor rows) =>
        KMeans.SquaredDistances(x, squaredNorms, x.index_select(0, rows)).t();
}
