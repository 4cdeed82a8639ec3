using TorchSharp;
using TpcCma.Checkpoints;
using TpcCma.Core.Tests.Model;
using TpcCma.Data;
using TpcCma.Losses;
using TpcCma.Model;
using TpcCma.Runs;
using TpcCma.Tokenization;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Training;

/// <summary>
/// <c>spec.precision</c>: bf16 autocast in the trainer. bf16 runs on CPU here (libtorch's CPU kernels take bf16
/// matrix products), so the same tests hold on both devices.
/// </summary>
[Collection("Torch")]
public class PrecisionTests
{
    // bf16 keeps 8 bits of mantissa (relative rounding 2^-9 ~ 0.002 per product); the micro model's losses are O(1)
    // and a handful of steps compound it. 2 % on the first losses and 1e-2 on weights after 5 steps of lr 1e-3.
    private const double LossRelativeTolerance = 0.02;
    private const double WeightTolerance = 1e-2;

    [Fact]
    public void Bf16Run_AgreesWithFp32Run_WithinBf16Rounding_ButIsNotFloat32()
    {
        using var threads = TrainerFixtures.SingleThread();
        var (fp32, fp32Weights) = RunFive(Precision.Fp32);
        var (bf16, bf16Weights) = RunFive(Precision.Bf16);

        foreach (var name in new[] { "loss", "clip", "cma", "a", "b", "w" })
            for (var step = 1; step <= 5; step++)
            {
                var (x, y) = (fp32[step][name], bf16[step][name]);
                Assert.True(Math.Abs(x - y) <= LossRelativeTolerance * Math.Max(Math.Abs(x), 1e-3), $"step {step} {name}: fp32 {x:R} bf16 {y:R}");
            }
        var maxWeightDiff = fp32Weights.Zip(bf16Weights).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));
        Assert.InRange(maxWeightDiff, 1e-7, WeightTolerance);   // > 0: the bf16 run really rounded
        Assert.NotEqual(fp32[1]["loss"], bf16[1]["loss"]);
    }

    [Fact]
    public void Objective_UnderBf16_KeepsLossAndGradientShareNormsFloat32()
    {
        using var threads = TrainerFixtures.SingleThread();
        using var scope = NewDisposeScope();
        using var model = TrainerFixtures.Model(21);
        using var batches = TrainerFixtures.Batches(pool: 8, batch: 8);
        var batch = batches.Batch(0);
        var objective = new TpcCmaObjective(1.0, 0.0, 100.0);
        using var autocast = Autocast.Enter(ScalarType.BFloat16);
        var output = model.call(batch.Pixels, batch.TokenIds);
        Assert.True(Autocast.CachedCasts > 0, "the matrix products did not run in bf16");
        var parts = objective.Compute(output.ImageFeatures, output.TextFeatures, output.LogitScale, 0.3);
        Assert.All(new[] { parts.Total, parts.Clip, parts.Cma, parts.ClipPull, parts.CmaPull, parts.Weight },
            t => Assert.Equal(ScalarType.Float32, t.dtype));
        parts.Total.backward();
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.All(model.parameters().Where(p => p.grad is not null), p => Assert.Equal(ScalarType.Float32, p.grad!.dtype));
    }

    [Fact]
    public void Autocast_CastsEachWeightOncePerScope_AndReusedCopiesGiveTheSameOutput()
    {
        using var threads = TrainerFixtures.SingleThread();
        using var scope = NewDisposeScope();
        using var model = TrainerFixtures.Model(22);
        using var batches = TrainerFixtures.Batches(pool: 8, batch: 8);
        var batch = batches.Batch(0);
        using var _ = no_grad();
        Tensor first, second;
        int afterFirst;
        using (Autocast.Enter(ScalarType.BFloat16))
        {
            first = model.encode_image(batch.Pixels);
            afterFirst = Autocast.CachedCasts;
            second = model.encode_image(batch.Pixels);
            Assert.Equal(afterFirst, Autocast.CachedCasts);   // the second forward found every copy cached
        }
        Tensor fresh;
        using (Autocast.Enter(ScalarType.BFloat16)) fresh = model.encode_image(batch.Pixels);
        // conv1 + per block (in_proj w, b; out_proj w, b; c_fc w, b; c_proj w, b) + proj
        Assert.Equal(1 + 8 * TrainerFixtures.MicroConfig.VisionLayers + 1, afterFirst);
        Assert.Equal(0, Autocast.CachedCasts);
        Assert.True(first.equal(second).all().item<bool>());
        Assert.True(first.equal(fresh).all().item<bool>());
    }

    [Fact]
    public void Embedder_UnderTheJobsPrecision_EmbedsInBf16_AndLeavesAutocastOff()
    {
        using var scope = NewDisposeScope();
        using var model = OpenClipCheckpoint.Load(TinyClip.OpenAiWeights);
        model.eval();
        var tokenizer = ClipTokenizer.Load(TinyClip.BpeGz);
        var processor = new ClipImageProcessor(ImageProcessorConfig.For(model.Config));
        string[] texts = ["a photo of a red circle.", "a blue square", "two green triangles"];
        var fp32 = new ModelEmbedder(model, tokenizer, processor).EmbedTexts(texts);
        var bf16 = new ModelEmbedder(model, tokenizer, processor, ScalarType.BFloat16).EmbedTexts(texts);
        Assert.Null(Autocast.Current);
        Assert.Equal(ScalarType.Float32, bf16.dtype);
        Assert.InRange(TinyClip.MaxAbsDiff(bf16, fp32), 1e-6, 0.05);   // rounded (so bf16 ran), and only by bf16 rounding
    }

    [Fact]
    public void Bf16Run_ResumedAfterCancellation_MatchesUninterruptedRunBitForBit()
    {
        var spec = TrainerFixtures.Spec(12) with { Precision = Precision.Bf16 };
        using var threads = TrainerFixtures.SingleThread();
        using var batches = TrainerFixtures.Batches(pool: 32, batch: 8);

        var straight = new RecordingObserver();
        using (var model = TrainerFixtures.Model(1))
        using (var trainer = new Trainer(spec, model, batches, TrainerFixtures.TempDirectory(), straight))
        {
            Assert.Equal(ScalarType.BFloat16, trainer.Autocast);
            trainer.Run(CancellationToken.None);
        }

        var dir = TrainerFixtures.TempDirectory();
        using var cts = new CancellationTokenSource();
        var first = new RecordingObserver { AfterMetrics = step => { if (step == 6) cts.Cancel(); } };
        using (var model = TrainerFixtures.Model(1))
        using (var trainer = new Trainer(spec, model, batches, dir, first))
            Assert.ThrowsAny<OperationCanceledException>(() => trainer.Run(cts.Token));
        Assert.Equal(6, first.Checkpoints[^1].Step);

        var second = new RecordingObserver();
        using (var model = TrainerFixtures.Model(999))
        using (var trainer = new Trainer(spec, model, batches, dir, second))
            trainer.Run(CancellationToken.None);

        Assert.Equal(Enumerable.Range(7, 6).Select(s => (long)s), second.Metrics.Keys.Order());
        foreach (var (step, metrics) in second.Metrics)
            foreach (var (name, value) in metrics)
                Assert.True(straight.Metrics[step][name] == value, $"step {step} {name}: {value:R} vs uninterrupted {straight.Metrics[step][name]:R}");
    }

    [Fact]
    public void Resume_WithAnotherPrecision_IsRefusedNamingTheField()
    {
        using var threads = TrainerFixtures.SingleThread();
        using var batches = TrainerFixtures.Batches(pool: 16, batch: 8);
        var dir = TrainerFixtures.TempDirectory();
        using (var model = TrainerFixtures.Model(3))
        using (var trainer = new Trainer(TrainerFixtures.Spec(2) with { Precision = Precision.Bf16 }, model, batches, dir))
            trainer.Run(CancellationToken.None);
        using var again = TrainerFixtures.Model(3);
        using var other = new Trainer(TrainerFixtures.Spec(4) with { Precision = Precision.Fp32 }, again, batches, dir);
        var error = Assert.Throws<InvalidDataException>(() => other.Run(CancellationToken.None));
        Assert.Contains("precision", error.Message);
    }

    [Theory]
    [InlineData(null, "cpu", true, null)]
    [InlineData("bf16", "cpu", false, ScalarType.BFloat16)]
    [InlineData(null, "cuda:0", true, ScalarType.BFloat16)]
    [InlineData(null, "cuda:0", false, null)]
    [InlineData("fp32", "cuda:0", true, null)]
    public void AutocastFor_TakesTheSpecOverTheDeviceDefault(string? precision, string device, bool cudaBf16, ScalarType? expected)
    {
        Precision? requested = precision is null ? null : Enum.Parse<Precision>(precision, ignoreCase: true);
        Assert.Equal(expected, new DeviceOptions(device, cudaBf16).AutocastFor(requested));
    }

    [Fact]
    public void Spec_ReadsPrecisionInSnakeCase_AndRefusesAnUnknownOneNamingTheField()
    {
        Assert.Equal(Precision.Bf16, TrainingSpec.FromJson("""{"precision": "bf16"}""").Precision);
        Assert.Equal(Precision.Fp32, TrainingSpec.FromJson("""{"precision": "fp32"}""").Precision);
        Assert.Null(TrainingSpec.FromJson("{}").Precision);
        var error = Assert.Throws<InvalidDataException>(() => TrainingSpec.FromJson("""{"precision": "fp16"}"""));
        Assert.Contains("precision", error.Message);
        Assert.Equal(["precision"], (new TrainingSpec { Precision = (Precision)7 }).Validate().Keys);
    }

    private static (Dictionary<long, IReadOnlyDictionary<string, double>> Metrics, List<float[]> Weights) RunFive(Precision precision)
    {
        var observer = new RecordingObserver();
        using var batches = TrainerFixtures.Batches(pool: 16, batch: 8);
        using var model = TrainerFixtures.Model(20);
        using (var trainer = new Trainer(TrainerFixtures.Spec(5) with { Precision = precision }, model, batches, TrainerFixtures.TempDirectory(), observer))
            trainer.Run(CancellationToken.None);
        var weights = model.parameters().Select(p => p.detach().cpu().data<float>().ToArray()).ToList();
        return (observer.Metrics, weights);
    }
}
