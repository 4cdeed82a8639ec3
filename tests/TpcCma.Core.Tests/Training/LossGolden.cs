using System.Text.Json;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Training;

/// <summary>One case of golden/loss_golden.json, written by tests/golden/make_loss_golden.py with PyTorch (float64).</summary>
public sealed record LossGoldenCase(
    string Name, double Scale, double LambdaDist, double LambdaCov, double WMax,
    double[][] X, double[][] Y, double Clip, double[][] ClipGradX, double[][] ClipGradY,
    double Cent, double Dist, double Cov, double Cma, double A, double B, double W,
    IReadOnlyList<LossGoldenObjective> Objectives)
{
    public override string ToString() => Name;

    /// <summary>x and y as float64 leaves that require grad, for the objective to differentiate.</summary>
    public (Tensor X, Tensor Y) Leaves() =>
        (LossGolden.ToTensor(X).requires_grad_(true), LossGolden.ToTensor(Y).requires_grad_(true));
}

/// <summary>The full objective at one alpha, with its gradient on x and y.</summary>
public sealed record LossGoldenObjective(double Alpha, double Total, double[][] GradX, double[][] GradY);

public static class LossGolden
{
    private sealed record File(IReadOnlyList<LossGoldenCase> Cases);

    public static IReadOnlyList<LossGoldenCase> Cases { get; } = Load();

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases) data.Add(c.Name);
        return data;
    }

    public static LossGoldenCase Case(string name) => Cases.Single(c => c.Name == name);

    public static Tensor ToTensor(double[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length], ScalarType.Float64);

    private static IReadOnlyList<LossGoldenCase> Load()
    {
        var path = System.IO.Path.Combine(RefData.RepoRoot, "tests", "TpcCma.Core.Tests", "Training", "golden", "loss_golden.json");
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return JsonSerializer.Deserialize<File>(System.IO.File.ReadAllText(path), options)!.Cases;
    }
}
