using TorchSharp;
using TpcCma.Model;
using TpcCma.Training;

namespace TpcCma.Core.Tests.Training;

/// <summary>A CLIP small enough to train for 100 steps in about a second, and a recording observer.</summary>
public static class TrainerFixtures
{
    public static ClipConfig MicroConfig { get; } = new(
        EmbedDim: 16, ImageResolution: 16, VisionLayers: 2, VisionWidth: 64, VisionPatchSize: 8,
        ContextLength: 8, VocabSize: 64, TransformerWidth: 32, TransformerHeads: 2, TransformerLayers: 2);

    public static ClipModel Model(long seed)
    {
        torch.manual_seed(seed);
        return new ClipModel(MicroConfig);
    }

    public static SyntheticBatchSource Batches(int pool, int batch, long seed = 11) =>
        new(pool, batch, MicroConfig.ImageResolution, MicroConfig.ContextLength, MicroConfig.VocabSize, seed);

    /// <summary>Short phases so a 20-step run passes through all three: phase 1 = 5 steps, ramp = 5 steps.</summary>
    public static TrainingSpec Spec(int steps = 20) => new()
    {
        Steps = steps, BatchSize = 8, Lr = 1e-3, WarmupFraction = 0.1, AlphaTarget = 0.5,
        P1 = 0.25, P1Min = 0.1, P2 = 0.25, PlateauWindow = 2, LogEvery = 1, CheckpointEvery = 1000,
    };

    /// <summary>
    /// Runs torch on one thread until disposed: results are then bit-reproducible whatever the machine, and on a
    /// busy 2-core machine one thread is many times faster than two competing for it.
    /// </summary>
    public static IDisposable SingleThread()
    {
        var before = torch.get_num_threads();
        torch.set_num_threads(1);
        return new Restore(() => torch.set_num_threads(before));
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    public static string TempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "tpccma-trainer-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>Keeps everything a run reports; <see cref="AfterMetrics"/> lets a test act between steps.</summary>
public sealed class RecordingObserver : ITrainingObserver
{
    public List<TrainingEvent> Events { get; } = [];
    public Dictionary<long, IReadOnlyDictionary<string, double>> Metrics { get; } = [];
    public List<CheckpointInfo> Checkpoints { get; } = [];
    public Action<long>? AfterMetrics { get; init; }

    public void OnEvent(TrainingEvent trainingEvent) => Events.Add(trainingEvent);

    public void OnMetrics(long step, IReadOnlyDictionary<string, double> metrics)
    {
        Metrics[step] = metrics;
        AfterMetrics?.Invoke(step);
    }

    public void OnCheckpoint(CheckpointInfo checkpoint) => Checkpoints.Add(checkpoint);
}
