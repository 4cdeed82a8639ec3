using TpcCma.Core.Tests.Training;

namespace TpcCma.Cli.Tests.Commands;

/// <summary><c>tpccma train</c> in-process; shares the console with the other CLI tests.</summary>
[Collection("Console")]
public sealed class TrainCommandTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("tpccma-train-cli-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(temp, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Runs <c>tpccma train</c> on a spec written from <paramref name="json"/>, asserts it is refused as an invalid request, and returns its error output.</summary>
    private async Task<string> TrainRefused(string name, string json)
    {
        var (code, _, err) = await Run("train", "--spec", Write(name, json), "--out", Path.Combine(temp, "out"));
        Assert.Equal(ExitCodes.InvalidRequest, code);
        return err;
    }

    [Fact]
    public async Task Train_ExitsWithInvalidRequest_NamingEveryBadField()
    {
        var err = await TrainRefused("bad.json", """{"alpha_target": 1.5, "lr": -1, "dataset": "synthetic:16"}""");
        Assert.Contains("alpha_target: must be < 1", err);
        Assert.Contains("lr: must be > 0", err);
    }

    [Theory]
    [InlineData("""{"cma": "geometry", "lambda_geom": 0, "negatives_beta": -1, "dataset": "synthetic:16"}""", "lambda_geom: must be > 0 when cma is geometry", "negatives_beta: must be >= 0")]
    [InlineData("""{"cma": "centroid", "dataset": "synthetic:16"}""", "must be one of pairwise, geometry, pairwise+geometry", "$.cma")]
    [InlineData("""{"kind": "pretrain", "method": "m2mix", "dataset": "synthetic:16"}""", "method: m2mix fine-tunes", "kind align")]
    [InlineData("""{"kind": "pretrain", "method": "align_clip", "align_clip_weight": -1, "dataset": "synthetic:16"}""", "method: align_clip fine-tunes", "align_clip_weight: must be >= 0")]
    public async Task Train_ExitsWithInvalidRequest_NamingABadMethodField(string json, string first, string second)
    {
        var err = await TrainRefused("method.json", json);
        Assert.Contains(first, err);
        Assert.Contains(second, err);
    }

    [Fact]
    public async Task Train_ExitsWithInvalidRequest_OnUnknownPrecision_NamingTheField()
    {
        var err = await TrainRefused("fp16.json", """{"precision": "fp16", "dataset": "synthetic:16"}""");
        Assert.Contains("precision", err);
        Assert.False(Directory.Exists(Path.Combine(temp, "out", "checkpoints")));
    }

    [Fact]
    public async Task Train_ExitsWithInvalidRequest_OnUnknownSpecField()
    {
        var err = await TrainRefused("typo.json", """{"alpha_targt": 0.5}""");
        Assert.Contains("alpha_targt", err);
    }

    [Fact]
    public async Task Train_RunsToTheEndAndResumes_OnSyntheticPairs()
    {
        using var threads = TrainerFixtures.SingleThread();
        var weights = Path.Combine(temp, "micro.safetensors");
        using (var model = TrainerFixtures.Model(21)) OpenClipCheckpoint.Save(model, weights);
        var spec = Write("job.json", $$"""
            {"kind": "align", "init_weights": "{{weights}}", "dataset": "synthetic:16", "steps": 6, "batch_size": 8,
             "lr": 1e-3, "log_every": 2, "checkpoint_every": 4}
            """);
        var outDir = Path.Combine(temp, "out");

        var (code, stdout, err) = await Run("train", "--spec", spec, "--out", outDir);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("step 6/6 phase", stdout);
        Assert.Contains("done: 6 steps", stdout);
        Assert.True(File.Exists(Path.Combine(outDir, "checkpoints", "step_000006", "model.safetensors")));

        (code, stdout, err) = await Run("train", "--spec", spec, "--out", outDir);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("[resumed] step 6", stdout);
    }
}
