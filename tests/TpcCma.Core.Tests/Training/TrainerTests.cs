using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;
using TpcCma.Checkpoints;
using TpcCma.Curriculum;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Training;

[Collection("Torch")]
public class TrainerTests
{
    [Fact]
    public void Run_ResumedAfterCancellation_MatchesUninterruptedRunBitForBit()
    {
        var spec = TrainerFixtures.Spec(20);
        using var threads = TrainerFixtures.SingleThread();
        using var batches = TrainerFixtures.Batches(pool: 32, batch: 8);

        var straight = new RecordingObserver();
        TrainingResult straightResult;
        using (var model = TrainerFixtures.Model(1))
        using (var trainer = new Trainer(spec, model, batches, TrainerFixtures.TempDirectory(), straight))
            straightResult = trainer.Run(CancellationToken.None);

        var dir = TrainerFixtures.TempDirectory();
        using var cts = new CancellationTokenSource();
        var first = new RecordingObserver { AfterMetrics = step => { if (step == 10) cts.Cancel(); } };
        using (var model = TrainerFixtures.Model(1))
        using (var trainer = new Trainer(spec, model, batches, dir, first))
            Assert.ThrowsAny<OperationCanceledException>(() => trainer.Run(cts.Token));
        Assert.Equal(10, first.Checkpoints[^1].Step);   // stopped after the step that saw the cancel, checkpoint kept
        Assert.Equal("cancelled", first.Events[^1].Kind);

        var second = new RecordingObserver();
        TrainingResult resumedResult;
        using (var model = TrainerFixtures.Model(999))            // other initial weights: the checkpoint must replace them
        using (var trainer = new Trainer(spec, model, batches, dir, second))
            resumedResult = trainer.Run(CancellationToken.None);

        Assert.Equal("resumed", second.Events[0].Kind);
        Assert.Equal(Enumerable.Range(11, 10).Select(s => (long)s), second.Metrics.Keys.Order());
        foreach (var (step, metrics) in second.Metrics)
            foreach (var (name, value) in metrics)
                Assert.True(straight.Metrics[step][name] == value, $"step {step} {name}: {value:R} vs uninterrupted {straight.Metrics[step][name]:R}");
        Assert.Equal(2, straightResult.Transitions.Count);
        Assert.Equal(straightResult.Transitions, resumedResult.Transitions);   // both happened before the cancel: restored from meta.json
    }

    [Fact]
    public void Run_LiveTensorCount_DoesNotGrowAcross100Steps()
    {
        using var threads = TrainerFixtures.SingleThread();
        var live = new Dictionary<long, long>();
        var observer = new RecordingObserver { AfterMetrics = step => live[step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount };
        using var batches = TrainerFixtures.Batches(pool: 16, batch: 8);
        using var model = TrainerFixtures.Model(2);
        using var trainer = new Trainer(TrainerFixtures.Spec(100) with { LogEvery = 10 }, model, batches, TrainerFixtures.TempDirectory(), observer);
        trainer.Run(CancellationToken.None);
        Assert.Equal(10, live.Count);
        Assert.Equal(live[10], live[100]);
        Assert.Single(live.Values.Distinct());
    }

    [Fact]
    public void Run_OverfitsOneBatch_LossFalls()
    {
        using var threads = TrainerFixtures.SingleThread();
        var observer = new RecordingObserver();
        using var batches = TrainerFixtures.Batches(pool: 8, batch: 8);   // every batch is the same 8 pairs
        using var model = TrainerFixtures.Model(3);
        using var trainer = new Trainer(TrainerFixtures.Spec(60), model, batches, TrainerFixtures.TempDirectory(), observer);
        trainer.Run(CancellationToken.None);
        var clip = observer.Metrics.OrderBy(kv => kv.Key).Select(kv => kv.Value["clip"]).ToList();
        Assert.True(clip[^1] < 0.25 * clip[0], $"contrastive loss {clip[0]:F3} -> {clip[^1]:F3}");
        var cma = observer.Metrics.OrderBy(kv => kv.Key).Select(kv => kv.Value["cma"]).ToList();
        Assert.True(cma[^1] < cma[5], $"alignment loss after phase 1 {cma[5]:F4} -> {cma[^1]:F4}");
    }

    [Theory]
    [InlineData(LogitScaleMode.Fixed)]
    [InlineData(LogitScaleMode.Learned)]
    public void Run_PretrainsFromRandomInit_WithAlphaZeroThroughout(LogitScaleMode mode)
    {
        using var threads = TrainerFixtures.SingleThread();
        var observer = new RecordingObserver();
        var spec = TrainerFixtures.Spec(80) with { Kind = JobKind.Pretrain, LogitScale = mode, LogEvery = 5 };
        using var batches = TrainerFixtures.Batches(pool: 32, batch: 8);
        using var model = TrainerFixtures.Model(4);
        var initialScale = model.LogitScaleParameter.item<float>();
        using var trainer = new Trainer(spec, model, batches, TrainerFixtures.TempDirectory(), observer);
        trainer.Run(CancellationToken.None);

        Assert.All(observer.Metrics.Values, m => Assert.Equal(0.0, m["alpha"]));
        var clip = observer.Metrics.OrderBy(kv => kv.Key).Select(kv => kv.Value["clip"]).ToList();
        Assert.True(clip.Skip(12).Average() < 0.7 * clip.Take(2).Average(), $"contrastive loss {string.Join(" ", clip.Select(c => c.ToString("F2")))}");
        var scale = model.LogitScaleParameter.item<float>();
        if (mode == LogitScaleMode.Fixed)
        {
            Assert.Equal((float)Math.Log(100), scale);
            Assert.False(model.LogitScaleParameter.requires_grad);
            Assert.All(observer.Metrics.Values, m => Assert.Equal(100.0, m["logit_scale"], 1e-4));
        }
        else Assert.NotEqual(initialScale, scale);
    }

    [Fact]
    public void Run_WritesCheckpointsPeriodicallyAndAtPhaseBoundaries_WithVerifiableHashes()
    {
        using var threads = TrainerFixtures.SingleThread();
        var dir = TrainerFixtures.TempDirectory();
        var observer = new RecordingObserver();
        using var batches = TrainerFixtures.Batches(pool: 16, batch: 8);
        using var model = TrainerFixtures.Model(5);
        using var trainer = new Trainer(TrainerFixtures.Spec(20) with { CheckpointEvery = 8 }, model, batches, dir, observer);
        var result = trainer.Run(CancellationToken.None);

        // phase 1 ends by budget at 5 (plateau needs p1_min = 2 steps and 2W = 4 measurements: may come earlier)
        var boundaries = result.Transitions.Select(t => t.Step).ToList();
        Assert.Equal(2, boundaries.Count);
        var expected = boundaries.Concat([8L, 16L, 20L]).Order().ToList();
        Assert.Equal(expected, observer.Checkpoints.Select(c => c.Step));
        Assert.Equal(expected.Select(CheckpointStore.StepDirectoryName), Directory.GetDirectories(dir).Select(Path.GetFileName).Order());

        var latest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest.json"))).RootElement;
        Assert.Equal(20, latest.GetProperty("step").GetInt64());
        var final = Path.Combine(dir, "step_000020");
        var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(final, "meta.json"))).RootElement;
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(final, "model.safetensors"))));
        Assert.Equal(sha, meta.GetProperty("weights_sha256").GetString());
        Assert.Equal("consolidate", meta.GetProperty("phase").GetString());
        Assert.Equal(20, meta.GetProperty("step").GetInt64());
        Assert.False(meta.TryGetProperty("loader_position", out _));   // the step is the loader position
        Assert.NotEmpty(Convert.FromBase64String(meta.GetProperty("rng_state").GetString()!));
        Assert.True(File.Exists(Path.Combine(final, "optim.dat")));
        using var reloaded = OpenClipCheckpoint.Load(Path.Combine(final, "model.safetensors"));
        Assert.Equal(model.LogitScaleParameter.item<float>(), reloaded.LogitScaleParameter.item<float>());
    }

    [Fact]
    public void Run_StopsWithDiverged_KeepingLastGoodCheckpoint()
    {
        using var threads = TrainerFixtures.SingleThread();
        var dir = TrainerFixtures.TempDirectory();
        var observer = new RecordingObserver();
        using var inner = TrainerFixtures.Batches(pool: 16, batch: 8);
        var poisoned = new PoisonedBatches(inner, firstBadPosition: 6);   // step 7 (1-based) sees NaN pixels
        using var model = TrainerFixtures.Model(6);
        using var trainer = new Trainer(TrainerFixtures.Spec(20) with { CheckpointEvery = 5, LogEvery = 3 }, model, poisoned, dir, observer);
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Run(CancellationToken.None));
        Assert.Equal("diverged at step 7: the loss or the gradient norm is not finite", ex.Message);
        Assert.Equal(7, ex.Step);
        Assert.Equal("diverged", observer.Events[^1].Kind);
        Assert.Equal(5, JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest.json"))).RootElement.GetProperty("step").GetInt64());
        Assert.All(observer.Metrics.Values, m => Assert.True(double.IsFinite(m["loss"])));
    }

    [Fact]
    public void Run_RefusesToResume_WhenSpecDiffers()
    {
        using var threads = TrainerFixtures.SingleThread();
        var dir = TrainerFixtures.TempDirectory();
        using var batches = TrainerFixtures.Batches(pool: 16, batch: 8);
        using (var model = TrainerFixtures.Model(7))
        using (var trainer = new Trainer(TrainerFixtures.Spec(4), model, batches, dir))
            trainer.Run(CancellationToken.None);
        using var again = TrainerFixtures.Model(7);
        using var changed = new Trainer(TrainerFixtures.Spec(4) with { AlphaTarget = 0.25, LogEvery = 2 }, again, batches, dir);
        var ex = Assert.Throws<InvalidDataException>(() => changed.Run(CancellationToken.None));
        Assert.Contains("alpha_target", ex.Message);
        Assert.DoesNotContain("log_every", ex.Message);
    }

    [Fact]
    public void Constructor_NamesInvalidFields()
    {
        using var batches = TrainerFixtures.Batches(pool: 16, batch: 8);
        using var model = TrainerFixtures.Model(8);
        var ex = Assert.Throws<ArgumentException>(() => new Trainer(TrainerFixtures.Spec() with { Lr = double.NaN, WMax = -1 }, model, batches, TrainerFixtures.TempDirectory()));
        Assert.Contains("lr:", ex.Message);
        Assert.Contains("w_max:", ex.Message);
    }

    [Fact]
    public void ClipGlobalNorm_MatchesTorchSharpClipGradNorm()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(9);
        var a = new TorchSharp.Modules.Parameter(randn(3, 4));
        var b = new TorchSharp.Modules.Parameter(randn(5));
        (a.pow(2).sum() * 3 + b.pow(3).sum()).backward();
        var ga = a.grad!.clone();
        var gb = b.grad!.clone();
        var ours = GradientClipping.ClipGlobalNorm([a, b], 1.0).item<float>();
        var (ca, cb) = (a.grad!.clone(), b.grad!.clone());
        a.grad!.copy_(ga);
        b.grad!.copy_(gb);
        var theirs = torch.nn.utils.clip_grad_norm_([a, b], 1.0);
        Assert.Equal(theirs, ours, 1e-5);
        Assert.True(ca.allclose(a.grad!, 1e-6, 1e-7) && cb.allclose(b.grad!, 1e-6, 1e-7));
        Assert.True(ours > 1.0);   // the case really clipped
    }

    /// <summary>Passes batches through, with NaN pixels from one position on.</summary>
    private sealed class PoisonedBatches(IBatchSource inner, long firstBadPosition) : IBatchSource
    {
        public int BatchSize => inner.BatchSize;

        public TrainingBatch Batch(long position)
        {
            var batch = inner.Batch(position);
            return position < firstBadPosition ? batch : batch with { Pixels = full_like(batch.Pixels, double.NaN) };
        }
    }
}
