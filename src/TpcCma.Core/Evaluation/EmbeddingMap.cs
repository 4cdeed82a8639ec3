using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>
/// 2-D pictures of the held-out image and text embeddings (METHOD.md, "Embedding maps"): the pooled 2n points
/// (rows 0..n-1 the images, n..2n-1 their captions) projected by PCA and by t-SNE. Coordinates are rounded to
/// 4 decimals: they are for drawing.
/// </summary>
/// <param name="Labels">Class index of each pair (-1: none), length n.</param>
/// <param name="Pca">[2n][2] first two principal components of the pooled, L2-normalised embeddings.</param>
/// <param name="Tsne">[2n][2] exact t-SNE of the same points.</param>
public sealed record EmbeddingMap(int Pairs, int[] Labels, double[][] Pca, double[][] Tsne);

/// <summary>Computes <see cref="EmbeddingMap"/>s; deterministic (no random draws: t-SNE starts from the scaled PCA map).</summary>
public static class EmbeddingMaps
{
    /// <summary>At most this many pairs are drawn (the first of the split, whose order is already a hash order): t-SNE is O(n^2).</summary>
    public const int DefaultMaxPairs = 100;

    public static EmbeddingMap Compute(Tensor image, Tensor text, IReadOnlyList<int>? labels, int maxPairs = DefaultMaxPairs, TsneOptions? tsne = null)
    {
        GapGeometry.CheckPairs(image, text, minimum: 2);
        var n = (int)Math.Min(image.shape[0], maxPairs);
        double[,] points;
        using (NewDisposeScope())
        {
            var x = nn.functional.normalize(image.narrow(0, 0, n).detach().to_type(ScalarType.Float64), p: 2, dim: 1);
            var y = nn.functional.normalize(text.narrow(0, 0, n).detach().to_type(ScalarType.Float64), p: 2, dim: 1);
            points = ToArray(cat([x, y], 0).cpu());
        }
        var pca = Pca(points);
        var map = Tsne.Embed(points, pca, tsne ?? new TsneOptions());
        var classes = Enumerable.Range(0, n).Select(i => labels is not null && i < labels.Count ? labels[i] : -1).ToArray();
        return new EmbeddingMap(n, classes, Round(pca), Round(map));
    }

    /// <summary>
    /// The first two principal components (scores) of the rows. Each component's sign is fixed so that its largest
    /// loading is positive, so the same cloud always draws the same way up.
    /// </summary>
    public static double[,] Pca(double[,] points)
    {
        using var scope = NewDisposeScope();
        var p = tensor(points, ScalarType.Float64);
        var centred = p - p.mean([0], keepdim: true);
        var (_, _, vh) = linalg.svd(centred, fullMatrices: false);                       // vh: [min(N, D), D]
        var k = (int)Math.Min(2, vh.shape[0]);
        var components = vh.narrow(0, 0, k);                                              // [k, D]
        var largest = components.abs().argmax(1, keepdim: true);                          // [k, 1]
        components = components * components.gather(1, largest).sign();
        var scores = ToArray(centred.matmul(components.t()));                             // [N, k]
        if (k == 2) return scores;
        var padded = new double[points.GetLength(0), 2];
        for (var i = 0; i < padded.GetLength(0); i++) padded[i, 0] = scores[i, 0];
        return padded;
    }

    private static double[,] ToArray(Tensor t)
    {
        var (rows, cols) = ((int)t.shape[0], (int)t.shape[1]);
        var flat = t.contiguous().data<double>().ToArray();
        var result = new double[rows, cols];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }

    private static double[][] Round(double[,] m) =>
        [.. Enumerable.Range(0, m.GetLength(0)).Select(i => new[] { Math.Round(m[i, 0], 4), Math.Round(m[i, 1], 4) })];
}
