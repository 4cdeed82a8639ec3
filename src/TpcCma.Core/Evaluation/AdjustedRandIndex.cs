namespace TpcCma.Evaluation;

/// <summary>
/// Adjusted Rand Index (Hubert and Arabie 1985), equal to scikit-learn 1.2.1's <c>adjusted_rand_score</c>:
/// exact integer pair counts, and 1.0 whenever no pair of points is grouped differently by the two
/// labelings (n &lt;= 1, identical partitions, both one cluster, both all singletons).
/// </summary>
public static class AdjustedRandIndex
{
    /// <summary>ARI of two labelings of the same points. Label values are arbitrary integers.</summary>
    public static double Compute(IReadOnlyList<long> labelsTrue, IReadOnlyList<long> labelsPred)
    {
        if (labelsTrue.Count != labelsPred.Count)
            throw new ArgumentException($"the labelings must have the same length, got {labelsTrue.Count} and {labelsPred.Count}");
        var (tn, fp, fn, tp) = PairConfusion(labelsTrue, labelsPred);
        if (fn == 0 && fp == 0) return 1.0;
        // scikit-learn: 2.0 * (tp*tn - fn*fp) / ((tp+fn)*(fn+tn) + (tp+fp)*(fp+tn)) on exact integers,
        // each side rounded to float64 once.
        var numerator = 2.0 * (double)(tp * tn - fn * fp);
        var denominator = (double)((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
        return numerator / denominator;
    }

    /// <inheritdoc cref="Compute(IReadOnlyList{long}, IReadOnlyList{long})"/>
    public static double Compute(IReadOnlyList<int> labelsTrue, IReadOnlyList<int> labelsPred) =>
        Compute(labelsTrue.Select(v => (long)v).ToArray(), labelsPred.Select(v => (long)v).ToArray());

    /// <summary>
    /// scikit-learn's <c>pair_confusion_matrix</c>: counts over ordered pairs (i, j), i != j, of being in the
    /// same cluster in neither, only the prediction, only the truth, or both labelings.
    /// </summary>
    public static (Int128 Tn, Int128 Fp, Int128 Fn, Int128 Tp) PairConfusion(IReadOnlyList<long> labelsTrue, IReadOnlyList<long> labelsPred)
    {
        var contingency = new Dictionary<(long, long), long>();
        var rowSums = new Dictionary<long, long>();
        var columnSums = new Dictionary<long, long>();
        for (var i = 0; i < labelsTrue.Count; i++)
        {
            var key = (labelsTrue[i], labelsPred[i]);
            contingency[key] = contingency.GetValueOrDefault(key) + 1;
            rowSums[labelsTrue[i]] = rowSums.GetValueOrDefault(labelsTrue[i]) + 1;
            columnSums[labelsPred[i]] = columnSums.GetValueOrDefault(labelsPred[i]) + 1;
        }

        Int128 n = labelsTrue.Count;
        Int128 sumSquares = 0, rowDot = 0, columnDot = 0;
        foreach (var ((t, p), count) in contingency)
        {
            sumSquares += (Int128)count * count;
            rowDot += (Int128)count * columnSums[p];    // contingency . n_k
            columnDot += (Int128)count * rowSums[t];    // contingency^T . n_c
        }
        var tp = sumSquares - n;
        var fp = rowDot - sumSquares;
        var fn = columnDot - sumSquares;
        var tn = n * n - fp - fn - sumSquares;
        return (tn, fp, fn, tp);
    }
}
