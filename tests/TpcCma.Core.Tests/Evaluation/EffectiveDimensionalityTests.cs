using System.Text.Json;
using System.Text.Json.Nodes;
using TpcCma.Evaluation;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Evaluation;

/// <summary>Effective dimensionality against numpy (golden/dimensionality_cases.json, tests/golden/make_dimensionality_cases.py).</summary>
public class EffectiveDimensionalityTests
{
    private const double Tol = 1e-9;
    private static readonly Lazy<JsonObject> Golden = new(() => JsonNode.Parse(File.ReadAllText(
        Path.Combine(RefData.RepoRoot, "tests", "TpcCma.Core.Tests", "Evaluation", "golden", "dimensionality_cases.json")))!.AsObject());

    public static TheoryData<string> CloudNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden.Value["clouds"]!.AsArray()) data.Add((string)c!["name"]!);
        return data;
    }

    [Theory, MemberData(nameof(CloudNames))]
    public void Of_MatchesNumpy(string name)
    {
        var c = Golden.Value["clouds"]!.AsArray().Single(n => (string)n!["name"]! == name)!;
        using var scope = NewDisposeScope();
        var result = EffectiveDimensionality.Of(Matrix(c["points"]!));
        AssertMatches(c["expected"]!, result);
    }

    [Fact]
    public void Measure_NormalisesEachModalityAndPoolsBoth_AsNumpy()
    {
        var c = Golden.Value["pairs"]![0]!;
        using var scope = NewDisposeScope();
        // Scaled rows: Measure must normalise them back to the unit vectors numpy measured.
        var image = Matrix(c["image"]!) * 3.0;
        var text = Matrix(c["text"]!) * 0.5;
        var result = EffectiveDimensionality.Measure(image.to_type(ScalarType.Float32).to_type(ScalarType.Float64), text);
        AssertMatches(c["expected"]!["image"]!, result.Image, 1e-6);   // the image rows went through float32
        AssertMatches(c["expected"]!["text"]!, result.Text);
        AssertMatches(c["expected"]!["pooled"]!, result.Pooled, 1e-6);
        Assert.True(result.Text.ParticipationRatio < result.Image.ParticipationRatio, "the squeezed text cloud uses fewer directions");
    }

    [Fact]
    public void Of_OneDirection_IsOne_AndIsotropicIsTheDimension()
    {
        using var scope = NewDisposeScope();
        var line = arange(10, dtype: ScalarType.Float64).unsqueeze(1) * tensor(new[] { 1.0, 2.0, 0.0 }).unsqueeze(0);   // [10, 3] on a line
        var line1 = EffectiveDimensionality.Of(line);
        Assert.Equal(1.0, line1.ParticipationRatio, 1e-12);
        Assert.Equal(1.0, line1.EffectiveRank, 1e-6);
        var simplex = cat([eye(4, dtype: ScalarType.Float64), -eye(4, dtype: ScalarType.Float64)], 0);   // +-e_k: isotropic in 4-D
        var four = EffectiveDimensionality.Of(simplex);
        Assert.Equal(4.0, four.ParticipationRatio, 1e-12);
        Assert.Equal(4.0, four.EffectiveRank, 1e-9);
    }

    private static Tensor Matrix(JsonNode rows)
    {
        var data = rows.AsArray().Select(r => r!.AsArray().Select(v => (double)v!).ToArray()).ToArray();
        return tensor(data.SelectMany(r => r).ToArray(), [data.Length, data[0].Length], ScalarType.Float64);
    }

    private static void AssertMatches(JsonNode expected, CloudDimensionality actual, double tol = Tol)
    {
        Assert.Equal((double)expected["participation_ratio"]!, actual.ParticipationRatio, tol);
        Assert.Equal((double)expected["effective_rank"]!, actual.EffectiveRank, tol);
    }
}
