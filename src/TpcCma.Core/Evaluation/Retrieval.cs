using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>Recall at 1 and 5 in both directions, as fractions in [0, 1].</summary>
public sealed record RetrievalResult(
    double ImageToTextR1, double ImageToTextR5, double TextToImageR1, double TextToImageR5, int Images, int Texts);

/// <summary>
/// Cross-modal retrieval by cosine similarity. Image to text: a hit when any caption of the image ranks
/// within the top K texts; text to image: when the caption's own image ranks within the top K images.
/// Ties count in the query's favour (only strictly more similar items push it down). Similarities are
/// computed in row blocks, so memory stays O(block x N).
/// </summary>
public static class Retrieval
{
    private const int BlockRows = 1024;

    /// <param name="image">[N, D] image embeddings.</param>
    /// <param name="text">[M, D] caption embeddings.</param>
    /// <param name="textImage">Index of the image of each caption; null means caption i belongs to image i (M = N).</param>
    public static RetrievalResult Evaluate(Tensor image, Tensor text, IReadOnlyList<int>? textImage = null)
    {
        if (image.dim() != 2 || text.dim() != 2 || image.shape[1] != text.shape[1])
            throw new ArgumentException($"image and text embeddings must be [N, D] and [M, D], got {GapGeometry.Shape(image)} and {GapGeometry.Shape(text)}");
        var n = image.shape[0];
        var m = text.shape[0];
        if (textImage is null && m != n) throw new ArgumentException($"without a caption-to-image map the counts must match, got {n} images and {m} captions");
        if (textImage is not null && textImage.Count != m) throw new ArgumentException($"{textImage.Count} caption owners for {m} captions");
        if (textImage is not null && textImage.Any(i => i < 0 || i >= n)) throw new ArgumentException($"a caption's image index is outside 0..{n - 1}");

        using var scope = NewDisposeScope();
        var x = nn.functional.normalize(image.to_type(ScalarType.Float32), p: 2, dim: 1);
        var y = nn.functional.normalize(text.to_type(ScalarType.Float32), p: 2, dim: 1);
        var owner = textImage is null ? arange(m, device: x.device) : tensor(textImage.Select(i => (long)i).ToArray(), device: x.device);

        // Image -> text: the best-ranked own caption decides.
        long i2t1 = 0, i2t5 = 0;
        for (long start = 0; start < n; start += BlockRows)
        {
            using var block = NewDisposeScope();
            var rows = Math.Min(BlockRows, n - start);
            var sims = x.narrow(0, start, rows).matmul(y.t());                                        // [b, M]
            var own = owner.unsqueeze(0).eq(arange(start, start + rows, device: x.device).unsqueeze(1));  // [b, M]
            var best = sims.masked_fill(own.logical_not(), float.NegativeInfinity).max(1).values;     // [b]
            var rank = sims.gt(best.unsqueeze(1)).sum(1);                                             // [b]
            i2t1 += rank.lt(1).sum().item<long>();
            i2t5 += rank.lt(5).sum().item<long>();
        }

        // Text -> image: the caption's own image.
        long t2i1 = 0, t2i5 = 0;
        for (long start = 0; start < m; start += BlockRows)
        {
            using var block = NewDisposeScope();
            var rows = Math.Min(BlockRows, m - start);
            var sims = y.narrow(0, start, rows).matmul(x.t());                                        // [b, N]
            var target = sims.gather(1, owner.narrow(0, start, rows).unsqueeze(1));                   // [b, 1]
            var rank = sims.gt(target).sum(1);
            t2i1 += rank.lt(1).sum().item<long>();
            t2i5 += rank.lt(5).sum().item<long>();
        }
        return new RetrievalResult(i2t1 / (double)n, i2t5 / (double)n, t2i1 / (double)m, t2i5 / (double)m, (int)n, (int)m);
    }
}
