using TpcCma.Core.Tests.Training;
using TpcCma.Evaluation;
using TpcCma.Runs;

namespace TpcCma.Core.Tests.Runs;

/// <summary>A whole run (what <c>tpccma train</c> and service jobs execute) on a WebDataset shard set.</summary>
[Collection("Torch")]
public sealed class ShardTrainingRunTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("tpccma-shard-run-").FullName;
    private readonly string shards;
    private readonly string weights;
    private readonly string tokenizer;

    public ShardTrainingRunTests()
    {
        // 40 pairs, 20 % in split test (by hash), 6 to a shard: train and test samples are spread over all 7 shards.
        shards = Path.Combine(root, "shards");
        var options = new SyntheticShapesOptions(Count: 40, Size: 16, Seed: 3);
        ShardConversion.WriteSynthetic(shards, options, shardSize: 6);
        tokenizer = Path.Combine(root, "tokenizer");
        var bpe = ClipBpeTrainer.Train(Enumerable.Range(0, 40).SelectMany(i => SyntheticShapes.Draw(i, options).Captions), vocabSize: 600);
        bpe.Save(tokenizer);
        weights = Path.Combine(root, "micro.safetensors");
        torch.manual_seed(21);
        using var model = new ClipModel(TrainerFixtures.MicroConfig with { VocabSize = bpe.VocabSize });
        OpenClipCheckpoint.Save(model, weights);
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private TrainingSpec Spec(int steps, bool evaluate) => TrainerFixtures.Spec(steps) with
    {
        InitWeights = weights, Tokenizer = tokenizer, Dataset = shards, CheckpointEvery = 4,
        Eval = new EvalSpec { Enabled = evaluate, Captioning = false, AtPhaseBoundaries = false, TrainSample = 8 },
    };

    [Fact]
    public void Execute_TrainsFromShards_AndEvaluatesOnTheHeldOutSplitReadFromThem()
    {
        using var threads = TrainerFixtures.SingleThread();
        var set = ShardSet.Open(shards);
        var scan = ShardScanner.Scan(set);
        int Count(string split) => scan.Shards.Sum(s => s.UsableIn(split));
        Assert.True(Count("test") > 0 && Count("train") > Count("test"), "the fixture must have both splits");

        var observer = new RunRecorder();
        var result = TrainingRun.Execute(new RunRequest(Spec(6, evaluate: true), Path.Combine(root, "run")), observer, CancellationToken.None);

        Assert.Equal(6, result.Training.Steps);
        Assert.Equal(Count("train"), result.TrainSamples);          // the whole training split, not the evaluator's head of it
        Assert.Equal(Count("test"), result.HeldOutSamples);
        Assert.Contains(result.Evaluations, e => e.Label == "final" && e.Report.Split == "test" && e.Report.Pairs == Count("test"));
        Assert.NotNull(result.FinalEmbeddings);
        // The held-out images were copied out of the shards, named by shard and key.
        Assert.Equal(Count("test") + Count("train"), Directory.EnumerateFiles(Path.Combine(root, "run", "shard-eval"), "*", SearchOption.AllDirectories).Count());
    }

    [Fact]
    public void Execute_StoppedAndResumedOnShards_SeesTheSameSamplesAsAnUninterruptedRun()
    {
        using var threads = TrainerFixtures.SingleThread();
        var spec = Spec(10, evaluate: false);

        var straight = new RunRecorder();
        TrainingRun.Execute(new RunRequest(spec, Path.Combine(root, "straight")), straight, CancellationToken.None);

        var resumedDir = Path.Combine(root, "resumed");
        using var cts = new CancellationTokenSource();
        var first = new RunRecorder { AfterMetrics = step => { if (step == 5) cts.Cancel(); } };
        Assert.ThrowsAny<OperationCanceledException>(() => TrainingRun.Execute(new RunRequest(spec, resumedDir), first, cts.Token));
        Assert.Equal(5, first.Metrics.Keys.Max());

        var second = new RunRecorder();
        TrainingRun.Execute(new RunRequest(spec, resumedDir), second, CancellationToken.None);

        Assert.Equal(Enumerable.Range(6, 5).Select(s => (long)s), second.Metrics.Keys.Order());
        // The same batches in the same order give bit-identical losses; another sample anywhere would change them.
        foreach (var (step, metrics) in second.Metrics)
            Assert.Equal(straight.Metrics[step]["loss"], metrics["loss"]);
        Assert.NotEqual(straight.Metrics[6]["loss"], straight.Metrics[7]["loss"]);
    }

    private sealed class RunRecorder : IRunObserver
    {
        public Dictionary<long, IReadOnlyDictionary<string, double>> Metrics { get; } = [];
        public Action<long>? AfterMetrics { get; init; }

        public void OnEvent(TrainingEvent trainingEvent) { }

        public void OnMetrics(long step, IReadOnlyDictionary<string, double> metrics)
        {
            Metrics[step] = metrics;
            AfterMetrics?.Invoke(step);
        }

        public void OnCheckpoint(CheckpointInfo checkpoint) { }

        public void OnEvaluation(long step, string label, EvaluationReport report) { }
    }
}
