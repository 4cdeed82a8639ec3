namespace TpcCma.Evaluation;

/// <summary>Settings of exact t-SNE; the defaults follow van der Maaten and Hinton (2008) and scikit-learn.</summary>
public sealed record TsneOptions(
    double Perplexity = 30, int Iterations = 750, int ExaggerationIterations = 250, double Exaggeration = 12,
    double? LearningRate = null);

/// <summary>
/// Exact t-SNE (van der Maaten and Hinton, JMLR 2008) for a few hundred points, in plain float64 arrays: Gaussian
/// affinities calibrated per point to the perplexity by bisection, symmetrised; Student-t affinities in 2-D;
/// gradient descent with momentum (0.5, then 0.8), adaptive gains, early exaggeration, learning rate
/// <c>max(N / exaggeration / 4, 50)</c> as scikit-learn's "auto". No random draws: it starts from a given map
/// (the PCA scores scaled to standard deviation 1e-4, as scikit-learn's <c>init="pca"</c>), so it is deterministic.
/// </summary>
public static class Tsne
{
    public static double[,] Embed(double[,] points, double[,] initial, TsneOptions options)
    {
        var n = points.GetLength(0);
        if (n < 2) throw new ArgumentException("t-SNE needs at least 2 points");
        var p = JointProbabilities(points, Math.Min(options.Perplexity, (n - 1) / 3.0));
        var y = ScaledStart(initial);
        var learningRate = options.LearningRate ?? Math.Max(n / options.Exaggeration / 4, 50);
        var update = new double[n, 2];
        var gains = new double[n, 2];
        for (var i = 0; i < n; i++) gains[i, 0] = gains[i, 1] = 1;
        var gradient = new double[n, 2];
        var kernel = new double[n, n];
        for (var iteration = 0; iteration < options.Iterations; iteration++)
        {
            var exaggeration = iteration < options.ExaggerationIterations ? options.Exaggeration : 1.0;
            var momentum = iteration < options.ExaggerationIterations ? 0.5 : 0.8;
            Gradient(p, y, exaggeration, kernel, gradient);
            for (var i = 0; i < n; i++)
                for (var d = 0; d < 2; d++)
                {
                    // Gains grow where the gradient keeps pointing against the last update, shrink where it flips.
                    gains[i, d] = gradient[i, d] * update[i, d] < 0 ? gains[i, d] + 0.2 : Math.Max(gains[i, d] * 0.8, 0.01);
                    update[i, d] = momentum * update[i, d] - learningRate * gains[i, d] * gradient[i, d];
                    y[i, d] += update[i, d];
                }
        }
        return y;
    }

    // dC/dy_i = 4 sum_j (e p_ij - q_ij) (1 + ||y_i - y_j||^2)^-1 (y_i - y_j)
    private static void Gradient(double[,] p, double[,] y, double exaggeration, double[,] kernel, double[,] gradient)
    {
        var n = y.GetLength(0);
        var sum = 0.0;
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
            {
                var dx = y[i, 0] - y[j, 0];
                var dy = y[i, 1] - y[j, 1];
                var k = 1 / (1 + dx * dx + dy * dy);
                kernel[i, j] = kernel[j, i] = k;
                sum += 2 * k;
            }
        for (var i = 0; i < n; i++)
        {
            double gx = 0, gy = 0;
            for (var j = 0; j < n; j++)
            {
                if (j == i) continue;
                var k = kernel[i, j];
                var force = (exaggeration * p[i, j] - k / sum) * k;
                gx += force * (y[i, 0] - y[j, 0]);
                gy += force * (y[i, 1] - y[j, 1]);
            }
            gradient[i, 0] = 4 * gx;
            gradient[i, 1] = 4 * gy;
        }
    }

    /// <summary>p_ij = (p_j|i + p_i|j) / 2N, each row's Gaussian width found by bisection so its entropy is ln(perplexity).</summary>
    public static double[,] JointProbabilities(double[,] points, double perplexity)
    {
        var n = points.GetLength(0);
        var dims = points.GetLength(1);
        var distances = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
            {
                var s = 0.0;
                for (var d = 0; d < dims; d++) { var diff = points[i, d] - points[j, d]; s += diff * diff; }
                distances[i, j] = distances[j, i] = s;
            }
        var conditional = new double[n, n];
        var row = new double[n];
        var target = Math.Log(perplexity);
        for (var i = 0; i < n; i++)
        {
            double beta = 1, low = double.NegativeInfinity, high = double.PositiveInfinity;
            for (var step = 0; step < 100; step++)
            {
                var entropy = RowEntropy(distances, i, beta, row);
                if (Math.Abs(entropy - target) < 1e-5) break;
                if (entropy > target) { low = beta; beta = double.IsPositiveInfinity(high) ? beta * 2 : (beta + high) / 2; }
                else { high = beta; beta = double.IsNegativeInfinity(low) ? beta / 2 : (beta + low) / 2; }
            }
            RowEntropy(distances, i, beta, row);
            for (var j = 0; j < n; j++) conditional[i, j] = row[j];
        }
        var joint = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                joint[i, j] = i == j ? 0 : Math.Max((conditional[i, j] + conditional[j, i]) / (2.0 * n), 1e-12);
        return joint;
    }

    // Fills row with p_j|i at precision beta (shifted by the smallest distance for stability); returns its entropy.
    private static double RowEntropy(double[,] distances, int i, double beta, double[] row)
    {
        var n = row.Length;
        var nearest = double.PositiveInfinity;
        for (var j = 0; j < n; j++) if (j != i) nearest = Math.Min(nearest, distances[i, j]);
        var sum = 0.0;
        for (var j = 0; j < n; j++)
        {
            row[j] = j == i ? 0 : Math.Exp(-beta * (distances[i, j] - nearest));
            sum += row[j];
        }
        var entropy = 0.0;
        for (var j = 0; j < n; j++)
        {
            row[j] /= sum;
            if (row[j] > 0) entropy -= row[j] * Math.Log(row[j]);
        }
        return entropy;
    }

    private static double[,] ScaledStart(double[,] initial)
    {
        var n = initial.GetLength(0);
        var mean = 0.0;
        for (var i = 0; i < n; i++) mean += initial[i, 0];
        mean /= n;
        var variance = 0.0;
        for (var i = 0; i < n; i++) variance += (initial[i, 0] - mean) * (initial[i, 0] - mean);
        var std = Math.Sqrt(variance / n);
        var scale = std > 0 ? 1e-4 / std : 1;
        var y = new double[n, 2];
        for (var i = 0; i < n; i++) { y[i, 0] = initial[i, 0] * scale; y[i, 1] = initial[i, 1] * scale; }
        return y;
    }
}
