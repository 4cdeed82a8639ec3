namespace TpcCma.Evaluation;

/// <summary>CIDEr-D of a scored set: the mean and each image's score, keyed by image id.</summary>
public sealed record CiderResult(double Score, IReadOnlyDictionary<string, double> PerImage);

/// <summary>
/// CIDEr-D exactly as the COCO caption evaluation code computes it (pycocoevalcap <c>cider/cider_scorer.py</c>):
/// n-grams 1..n weighted by tf-idf with document frequencies over the scored set's references and
/// idf log(#images) - log(max(1, df)); per reference and n the clipped similarity
/// sum_g min(h_g, r_g) r_g / (|h| |r|), times a Gaussian length penalty on the bigram counts; mean over n,
/// mean over references, times 10. Captions are pre-tokenised (split on spaces; see <see cref="CaptionTokenizer"/>).
/// </summary>
public static class CiderD
{
    /// <param name="candidates">One candidate caption per image id.</param>
    /// <param name="references">At least one reference caption per image id; the same ids as the candidates.</param>
    public static CiderResult Score(
        IReadOnlyDictionary<string, string> candidates,
        IReadOnlyDictionary<string, IReadOnlyList<string>> references,
        int n = 4, double sigma = 6.0)
    {
        if (n < 1) throw new ArgumentException($"n must be at least 1, got {n}");
        if (candidates.Count == 0) throw new ArgumentException("no candidates to score");
        foreach (var id in candidates.Keys)
            if (!references.TryGetValue(id, out var refs) || refs.Count == 0)
                throw new ArgumentException($"image '{id}' has a candidate but no references");
        foreach (var id in references.Keys)
            if (!candidates.ContainsKey(id)) throw new ArgumentException($"image '{id}' has references but no candidate");

        var ids = candidates.Keys.ToArray();
        var cookedRefs = ids.ToDictionary(id => id, id => references[id].Select(r => CountNgrams(r, n)).ToArray());
        var documentFrequency = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var refs in cookedRefs.Values)
            foreach (var ngram in refs.SelectMany(r => r.Keys).Distinct(StringComparer.Ordinal))
                documentFrequency[ngram] = documentFrequency.GetValueOrDefault(ngram) + 1;

        var logImages = Math.Log(ids.Length);
        var perImage = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            var hypothesis = Weigh(CountNgrams(candidates[id], n), n, documentFrequency, logImages);
            var perOrder = new double[n];
            foreach (var reference in cookedRefs[id])
            {
                var similarity = Similarity(hypothesis, Weigh(reference, n, documentFrequency, logImages), n, sigma);
                for (var k = 0; k < n; k++) perOrder[k] += similarity[k];
            }
            perImage[id] = perOrder.Average() / cookedRefs[id].Length * 10.0;
        }
        return new CiderResult(perImage.Values.Average(), perImage);
    }

    /// <summary>Counts of every n-gram of orders 1..n, keyed by the space-joined words.</summary>
    private static Dictionary<string, int> CountNgrams(string sentence, int n)
    {
        var words = sentence.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);   // Python's str.split()
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var k = 1; k <= n; k++)
            for (var i = 0; i + k <= words.Length; i++)
            {
                var gram = string.Join(' ', words, i, k);
                counts[gram] = counts.GetValueOrDefault(gram) + 1;
            }
        return counts;
    }

    /// <summary>A sentence as tf-idf vectors per order, their norms, and its "length".</summary>
    private sealed record Weighted(Dictionary<string, double>[] Vectors, double[] Norms, int Length);

    private static Weighted Weigh(Dictionary<string, int> counts, int n, Dictionary<string, int> documentFrequency, double logImages)
    {
        var vectors = Enumerable.Range(0, n).Select(_ => new Dictionary<string, double>(StringComparer.Ordinal)).ToArray();
        var norms = new double[n];
        var length = 0;
        foreach (var (gram, termFrequency) in counts)
        {
            var order = gram.Count(ch => ch == ' ');      // 0-based n-gram order
            var value = termFrequency * (logImages - Math.Log(Math.Max(1.0, documentFrequency.GetValueOrDefault(gram))));
            vectors[order][gram] = value;
            norms[order] += value * value;
            // The reference code's "length" sums bigram counts (words - 1), not words: kept for parity.
            if (order == 1) length += termFrequency;
        }
        for (var k = 0; k < n; k++) norms[k] = Math.Sqrt(norms[k]);
        return new Weighted(vectors, norms, length);
    }

    private static double[] Similarity(Weighted hypothesis, Weighted reference, int n, double sigma)
    {
        double delta = hypothesis.Length - reference.Length;
        var penalty = Math.Exp(-(delta * delta) / (2 * sigma * sigma));
        var values = new double[n];
        for (var k = 0; k < n; k++)
        {
            foreach (var (gram, h) in hypothesis.Vectors[k])
            {
                var r = reference.Vectors[k].GetValueOrDefault(gram);
                values[k] += Math.Min(h, r) * r;
            }
            if (hypothesis.Norms[k] != 0 && reference.Norms[k] != 0) values[k] /= hypothesis.Norms[k] * reference.Norms[k];
            values[k] *= penalty;
        }
        return values;
    }
}
