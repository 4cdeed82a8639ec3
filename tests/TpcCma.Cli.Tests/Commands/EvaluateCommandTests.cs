using System.Text.Json.Nodes;

namespace TpcCma.Cli.Tests.Commands;

/// <summary><c>tpccma evaluate</c> on the reference tiny CLIP and a small synthetic data set.</summary>
[Collection("Console")]
public sealed class EvaluateCommandTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("evaluate").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    /// <summary>
    /// Runs <c>tpccma evaluate</c> (the tiny reference CLIP, five captioning steps, <paramref name="extra"/>) on 60 shapes
    /// labelled by shape; asserts it succeeds and returns the report's one split (the held-out one) and the standard output.
    /// </summary>
    private async Task<(JsonNode Split, string Stdout)> EvaluateLabelledShapes(params string[] extra)
    {
        var data = Path.Combine(temp, "shapes");
        SyntheticShapes.Write(data, new SyntheticShapesOptions(Count: 60, Size: 32, Seed: 4, Label: ShapeLabel.Shape));
        var report = Path.Combine(temp, "report.json");
        var (code, stdout, err) = await Run(["evaluate", "--model", RefData.Path("clip-tiny", "hf"), "--dataset", data,
            "--captioning-steps", "5", .. extra, "--out", report]);
        Assert.True(code == ExitCodes.Ok, err);
        return (JsonNode.Parse(File.ReadAllText(report))!.AsArray().Single()!, stdout);
    }

    [Fact]
    public async Task Evaluate_WritesAReportWithGapsAndTaskMetrics_ForTheHeldOutSplit()
    {
        var (split, stdout) = await EvaluateLabelledShapes();
        Assert.Equal("test", split["split"]!.GetValue<string>());
        var gaps = split["gaps"]!;
        var (raw, centroid, distribution) = (gaps["raw"]!.GetValue<double>(), gaps["centroid"]!.GetValue<double>(), gaps["distribution"]!.GetValue<double>());
        Assert.Equal(raw * raw, centroid * centroid + distribution * distribution, 6);
        Assert.NotNull(split["zero_shot"]);
        Assert.NotNull(split["joint_clustering"]);
        Assert.NotNull(split["captioning"]);
        Assert.Contains("gap raw", stdout);
    }

    [Fact]
    public async Task Evaluate_UnknownSplit_ExitsWithInvalidRequestNamingTheSplits()
    {
        var data = Path.Combine(temp, "shapes");
        SyntheticShapes.Write(data, new SyntheticShapesOptions(Count: 20, Size: 32, Seed: 4));
        var (code, _, err) = await Run("evaluate", "--model", RefData.Path("clip-tiny", "hf"), "--dataset", data,
            "--split", "nope", "--out", Path.Combine(temp, "r.json"));
        Assert.Equal(ExitCodes.InvalidRequest, code);
        Assert.Contains("nope", err);
        Assert.Contains("train", err);
    }

    [Fact]
    public async Task Evaluate_Centered_ReportsGapsBeforeRenormalisingAndEachDecoderSeed()
    {
        var (split, _) = await EvaluateLabelledShapes("--captioning-seeds", "2", "--centered");
        Assert.Equal(0, split["gaps"]!["centroid"]!.GetValue<double>(), 1e-9);
        var renormalised = split["renormalised_gaps"]!;
        Assert.True(renormalised["distribution"]!.GetValue<double>() > split["gaps"]!["distribution"]!.GetValue<double>());
        Assert.Equal(2, split["captioning"]!["runs"]!.AsArray().Count);
        Assert.NotNull(split["gaps"]!["image_spread"]!["cosine_distance"]);
    }

    [Fact]
    public async Task Evaluate_CaptioningSeedsOutOfRange_ExitsWithInvalidRequest()
    {
        var (code, _, err) = await Run("evaluate", "--model", RefData.Path("clip-tiny", "hf"), "--dataset", Path.Combine(temp, "none"),
            "--captioning-seeds", "0", "--out", Path.Combine(temp, "r.json"));

        Assert.Equal(ExitCodes.InvalidRequest, code);
        Assert.Contains("--captioning-seeds", err);
    }
}
