using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>Joint clustering ARI and the size of the problem it was measured on.</summary>
public sealed record JointClusteringResult(double Ari, int Points, int Clusters, double Inertia);

/// <summary>
/// Joint image+text clustering (METHOD.md): pool the N image and N caption embeddings (2N points), k-means
/// with k = number of classes, and the ARI of the assignment against the class labels of all 2N points.
/// When the modalities sit apart, clusters split by modality and the ARI drops.
/// </summary>
public static class JointClustering
{
    /// <param name="image">[N, D] image embeddings (normalised here).</param>
    /// <param name="text">[N, D] embeddings of one caption per image.</param>
    /// <param name="labels">Class of each pair (every pair must be labelled, with a label >= 0).</param>
    /// <param name="classes">k: the number of classes among the pairs.</param>
    public static JointClusteringResult Evaluate(Tensor image, Tensor text, IReadOnlyList<int> labels, int classes, KMeansOptions? options = null)
    {
        GapGeometry.CheckPairs(image, text, minimum: 1);
        if (labels.Count != image.shape[0]) throw new ArgumentException($"{labels.Count} labels for {image.shape[0]} pairs");
        if (labels.Any(l => l < 0)) throw new ArgumentException("every pair needs a label (>= 0)");

        using var scope = NewDisposeScope();
        var pooled = cat([GapGeometry.Normalise(image), GapGeometry.Normalise(text)], 0);       // [2N, D]
        var clustering = KMeans.Fit(pooled, classes, options);
        var truth = labels.Concat(labels).Select(l => (long)l).ToArray();
        return new JointClusteringResult(AdjustedRandIndex.Compute(truth, clustering.Labels), truth.Length, classes, clustering.Inertia);
    }
}
