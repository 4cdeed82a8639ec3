using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>The parsed input of a metric case; <see cref="Run"/> computes the metric as JSON (snake_case).</summary>
public abstract record MetricCaseInput
{
    public abstract JsonObject Run();
}

/// <summary><c>ari</c>: <c>{labels_true, labels_pred}</c> to <c>{ari}</c>.</summary>
public sealed record AriCaseInput(long[] LabelsTrue, long[] LabelsPred) : MetricCaseInput
{
    public static AriCaseInput Parse(JsonObject input, string where)
    {
        var labelsTrue = JsonRead.Integers(input, "labels_true", where);
        var labelsPred = JsonRead.Integers(input, "labels_pred", where);
        if (labelsTrue.Length != labelsPred.Length)
            throw new InvalidDataException($"{where}: labels_true has {labelsTrue.Length} labels but labels_pred {labelsPred.Length}");
        return new AriCaseInput(labelsTrue, labelsPred);
    }

    public override JsonObject Run() => new() { ["ari"] = AdjustedRandIndex.Compute(LabelsTrue, LabelsPred) };
}

/// <summary><c>cider_d</c>: <c>{candidates: {id: caption}, references: {id: [captions]}}</c> to <c>{score, per_image}</c>.</summary>
public sealed record CiderCaseInput(
    Dictionary<string, string> Candidates, Dictionary<string, IReadOnlyList<string>> References, int N, double Sigma) : MetricCaseInput
{
    public static CiderCaseInput Parse(JsonObject input, JsonObject? parameters, string where)
    {
        var candidates = JsonRead.Object(input, "candidates", where).ToDictionary(
            p => p.Key, p => JsonRead.AsString(p.Value, $"{where}.candidates.{p.Key}"), StringComparer.Ordinal);
        var references = JsonRead.Object(input, "references", where).ToDictionary(
            p => p.Key,
            p => (IReadOnlyList<string>)(p.Value as JsonArray ?? throw new InvalidDataException($"{where}.references.{p.Key} must be an array of captions"))
                .Select((c, i) => JsonRead.AsString(c, $"{where}.references.{p.Key}[{i}]")).ToArray(),
            StringComparer.Ordinal);
        if (candidates.Count == 0) throw new InvalidDataException($"{where}.candidates is empty");
        foreach (var id in candidates.Keys.Where(id => !references.TryGetValue(id, out var r) || r.Count == 0))
            throw new InvalidDataException($"{where}: image '{id}' has a candidate but no references");
        foreach (var id in references.Keys.Where(id => !candidates.ContainsKey(id)))
            throw new InvalidDataException($"{where}: image '{id}' has references but no candidate");
        var n = parameters?["n"] is null ? 4 : (int)JsonRead.Number(parameters, "n", $"{where} params");
        var sigma = parameters?["sigma"] is null ? 6.0 : JsonRead.Number(parameters, "sigma", $"{where} params");
        if (n < 1) throw new InvalidDataException($"{where} params: n must be at least 1, got {n}");
        if (sigma <= 0) throw new InvalidDataException($"{where} params: sigma must be positive, got {sigma}");
        return new CiderCaseInput(candidates, references, n, sigma);
    }

    public override JsonObject Run()
    {
        var result = CiderD.Score(Candidates, References, N, Sigma);
        var perImage = new JsonObject();
        foreach (var (id, score) in result.PerImage) perImage[id] = score;
        return new JsonObject { ["score"] = result.Score, ["per_image"] = perImage };
    }
}

/// <summary><c>gaps</c>: raw <c>{image, text}</c> N x d matrices to the gap measures.</summary>
public sealed record GapsCaseInput(double[] Image, double[] Text, int Rows, int Columns) : MetricCaseInput
{
    public static GapsCaseInput Parse(JsonObject input, string where)
    {
        var (image, rows, columns) = JsonRead.Matrix(input, "image", where);
        var (text, textRows, textColumns) = JsonRead.Matrix(input, "text", where);
        if (rows != textRows || columns != textColumns)
            throw new InvalidDataException($"{where}: image is {rows}x{columns} but text is {textRows}x{textColumns}");
        if (rows < 2) throw new InvalidDataException($"{where}: at least 2 pairs are needed, got {rows}");
        return new GapsCaseInput(image, text, rows, columns);
    }

    public override JsonObject Run()
    {
        using var image = tensor(Image, [Rows, Columns]);
        using var text = tensor(Text, [Rows, Columns]);
        var g = GapGeometry.Measure(image, text);
        return new JsonObject
        {
            ["raw"] = g.Raw, ["centroid"] = g.Centroid, ["distribution"] = g.Distribution, ["cos_pair"] = g.CosPair,
            ["frechet"] = g.Frechet, ["frechet_cov"] = g.FrechetCov, ["rmg"] = g.Rmg,
        };
    }
}

/// <summary><c>kmeans_ari</c>: <c>{points, labels, k}</c> to the ARI of k-means (10 restarts, seed 0) against the labels.</summary>
public sealed record KMeansCaseInput(double[] Points, int Rows, int Columns, long[] Labels, int K) : MetricCaseInput
{
    public static KMeansCaseInput Parse(JsonObject input, string where)
    {
        var (points, rows, columns) = JsonRead.Matrix(input, "points", where);
        var labels = JsonRead.Integers(input, "labels", where);
        var k = JsonRead.Number(input, "k", where);
        if (labels.Length != rows) throw new InvalidDataException($"{where}: {rows} points but {labels.Length} labels");
        if (k != Math.Floor(k) || k < 1 || k > rows) throw new InvalidDataException($"{where}.k must be an integer from 1 to {rows}, got {k}");
        return new KMeansCaseInput(points, rows, columns, labels, (int)k);
    }

    public override JsonObject Run()
    {
        using var points = tensor(Points, [Rows, Columns]);
        var clustering = KMeans.Fit(points, K);
        return new JsonObject { ["ari"] = AdjustedRandIndex.Compute(Labels, clustering.Labels), ["inertia"] = clustering.Inertia };
    }
}
