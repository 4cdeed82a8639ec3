using System.Text.Json;
using TpcCma.Losses;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Training;

/// <summary>One case of golden/cma_variants_golden.json, written by tests/golden/make_cma_variants_golden.py with PyTorch (float64).</summary>
public sealed record CmaVariantCase(
    string Name, double Scale, string Cma, string Negatives, double NegativesBeta,
    double LambdaDist, double LambdaCov, double LambdaGeom, double LambdaUnif, double WMax,
    double[][] X, double[][] Y, double Clip, double[][] ClipGradX, double[][] ClipGradY,
    double Geom, double[][] GeomGradX, double[][] GeomGradY, double Unif, double[][] UnifGradX, double[][] UnifGradY,
    double Cent, double Dist, double Cov, double CmaTotal, double A, double B, double W,
    IReadOnlyList<LossGoldenObjective> Objectives)
{
    public override string ToString() => Name;

    public (Tensor X, Tensor Y) Leaves() =>
        (LossGolden.ToTensor(X).requires_grad_(true), LossGolden.ToTensor(Y).requires_grad_(true));

    /// <summary>The options as a job spec would give them: the spec's own JSON names are parsed, so the golden file also checks them.</summary>
    public ObjectiveOptions Options() => TrainingSpec.FromJson(new System.Text.Json.Nodes.JsonObject
    {
        ["cma"] = Cma, ["negatives"] = Negatives, ["negatives_beta"] = NegativesBeta, ["lambda_dist"] = LambdaDist,
        ["lambda_cov"] = LambdaCov, ["lambda_geom"] = LambdaGeom, ["lambda_unif"] = LambdaUnif, ["w_max"] = WMax,
    }.ToJsonString()).Objective;
}

public static class CmaVariantsGolden
{
    private sealed record File(IReadOnlyList<CmaVariantCase> Cases);

    public static IReadOnlyList<CmaVariantCase> Cases { get; } = Load();

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases) data.Add(c.Name);
        return data;
    }

    public static CmaVariantCase Case(string name) => Cases.Single(c => c.Name == name);

    private static IReadOnlyList<CmaVariantCase> Load()
    {
        var path = System.IO.Path.Combine(RefData.RepoRoot, "tests", "TpcCma.Core.Tests", "Training", "golden", "cma_variants_golden.json");
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return JsonSerializer.Deserialize<File>(System.IO.File.ReadAllText(path), options)!.Cases;
    }
}
