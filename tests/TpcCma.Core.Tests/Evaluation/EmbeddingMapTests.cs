using TpcCma.Evaluation;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Evaluation;

public class EmbeddingMapTests
{
    [Fact]
    public void Pca_RecoversThePlaneOfAFlatCloud_WithFixedSigns()
    {
        // Points t u + s v with orthonormal u, v in 3-D and var(t) > var(s): the scores are (t - mean t, s - mean s).
        var u = new[] { 0.6, 0.8, 0.0 };
        var v = new[] { 0.0, 0.0, 1.0 };
        double[] t = [-3, -1, 0, 2, 5, -3];
        double[] s = [1, 0, 0, 0, 0, -1];   // centred and uncorrelated with t, so the axes are exactly u and v
        var points = new double[t.Length, 3];
        for (var i = 0; i < t.Length; i++)
            for (var d = 0; d < 3; d++) points[i, d] = t[i] * u[d] + s[i] * v[d];
        var scores = EmbeddingMaps.Pca(points);
        var (tMean, sMean) = (t.Average(), s.Average());
        for (var i = 0; i < t.Length; i++)
        {
            Assert.Equal(t[i] - tMean, scores[i, 0], 1e-9);   // largest loading of u (0.8) is positive: no flip
            Assert.Equal(s[i] - sMean, scores[i, 1], 1e-9);
        }
        var flipped = EmbeddingMaps.Pca(Negate(points));
        Assert.Equal(scores[0, 0], -flipped[0, 0], 1e-9);   // the data flipped, the sign rule flips the scores with it
    }

    [Fact]
    public void Tsne_SeparatesTwoClusters_AndIsDeterministic()
    {
        var rng = new Random(3);
        var points = new double[60, 10];
        for (var i = 0; i < 60; i++)
            for (var d = 0; d < 10; d++) points[i, d] = (i < 30 ? 0 : 4) * (d == 0 ? 1 : 0) + 0.3 * (rng.NextDouble() - 0.5);
        var start = EmbeddingMaps.Pca(points);
        var map = Tsne.Embed(points, start, new TsneOptions(Perplexity: 10, Iterations: 400));
        var again = Tsne.Embed(points, start, new TsneOptions(Perplexity: 10, Iterations: 400));
        Assert.Equal(Flatten(map), Flatten(again));
        // Every point's nearest neighbour on the map is in its own cluster.
        for (var i = 0; i < 60; i++)
        {
            var nearest = Enumerable.Range(0, 60).Where(j => j != i)
                .MinBy(j => Math.Pow(map[i, 0] - map[j, 0], 2) + Math.Pow(map[i, 1] - map[j, 1], 2));
            Assert.Equal(i < 30, nearest < 30);
        }
    }

    [Fact]
    public void JointProbabilities_AreSymmetricAndSumToOne()
    {
        var rng = new Random(5);
        var points = new double[20, 4];
        for (var i = 0; i < 20; i++) for (var d = 0; d < 4; d++) points[i, d] = rng.NextDouble();
        var p = Tsne.JointProbabilities(points, 5);
        Assert.Equal(1.0, Flatten(p).Sum(), 1e-9);
        for (var i = 0; i < 20; i++) for (var j = 0; j < 20; j++) Assert.Equal(p[i, j], p[j, i], 1e-15);
    }

    [Fact]
    public void Compute_PoolsImagesThenTexts_CapsPairsAndKeepsLabels()
    {
        using var scope = NewDisposeScope();
        var image = randn(200, 8, generator: new Generator(1).manual_seed(1));
        var text = randn(200, 8, generator: new Generator(1).manual_seed(2)) + 3;
        var labels = Enumerable.Range(0, 200).Select(i => i % 4).ToArray();
        var map = EmbeddingMaps.Compute(image, text, labels, maxPairs: 50, tsne: new TsneOptions(Iterations: 100));
        Assert.Equal(50, map.Pairs);
        Assert.Equal(labels.Take(50), map.Labels);
        Assert.Equal(100, map.Pca.Length);
        Assert.Equal(100, map.Tsne.Length);
        // The shifted text cloud sits on one side of the first principal axis, the images on the other.
        var imageSide = Math.Sign(map.Pca.Take(50).Average(p => p[0]));
        Assert.All(map.Pca.Skip(50), p => Assert.Equal(-imageSide, Math.Sign(p[0])));
    }

    private static double[,] Negate(double[,] m)
    {
        var r = (double[,])m.Clone();
        for (var i = 0; i < r.GetLength(0); i++) for (var j = 0; j < r.GetLength(1); j++) r[i, j] = -r[i, j];
        return r;
    }

    private static double[] Flatten(double[,] m) => m.Cast<double>().ToArray();
}
