using TpcCma.Checkpoints;
using TpcCma.Data;
using TpcCma.Data.Shards;
using TpcCma.Evaluation;
using TpcCma.Model;
using TpcCma.Tokenization;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Runs;

/// <summary>How a run ended: the trainer's result and where the final model is (weights + tokenizer, loadable by <see cref="ModelLoader"/>).</summary>
/// <param name="FinalModelDirectory">Null for an evaluate job, which produces no model.</param>
public sealed record RunResult(TrainingResult Training, string? FinalModelDirectory, int TrainSamples, int HeldOutSamples)
{
    /// <summary>Evaluation reports (<c>base</c>, phase boundaries, <c>final</c>), in the order they ran.</summary>
    public IReadOnlyList<RunEvaluationRecord> Evaluations { get; init; } = [];

    /// <summary>The final model's embeddings of a few held-out pairs, to check a downloaded checkpoint against.</summary>
    public EmbeddingFingerprint? FinalEmbeddings { get; init; }

    /// <summary>Shards only: samples left out because of a problem, per epoch this process read (empty when none).</summary>
    public IReadOnlyDictionary<int, int> SkippedByEpoch { get; init; } = new Dictionary<int, int>();

    /// <summary>The problems behind <see cref="SkippedByEpoch"/>, the first ones seen.</summary>
    public IReadOnlyList<DatasetError> SkippedErrors { get; init; } = [];
}

/// <summary>
/// One job spec, run from the data and base model to the final checkpoint: what the service's workers and
/// <c>tpccma train</c> both execute. Resumes when its output folder already holds checkpoints.
/// </summary>
public static class TrainingRun
{
    /// <summary>Vocabulary of the tokenizer learned from the captions when pre-training from scratch.</summary>
    public const int PretrainVocabSize = 4096;

    public static RunResult Execute(RunRequest request, IRunObserver observer, CancellationToken ct)
    {
        var spec = request.Spec;
        var data = RunData.Open(spec.Dataset ?? throw new ArgumentException("the spec names no dataset"), spec.TrainSplit,
            request.ShardSources, request.ShardEvalDirectory, ct);
        // Shards: the loader streams the whole training split; data.Train holds only the evaluator's bounded head of it.
        var trainCount = data.Shards?.Samples ?? data.Train.Samples.Count;
        if (trainCount < spec.BatchSize)
            throw new ArgumentException($"the training split has {trainCount} samples, fewer than batch_size {spec.BatchSize}");

        manual_seed(spec.Seed);   // random initialisation (pre-training) is part of what the seed fixes
        using var loaded = LoadModel(request, data.Shards is { } captionShards ? captionShards.Captions(ct) : data.Train.Samples.SelectMany(s => s.Captions));
        var tokenizer = loaded.RequireTokenizer();
        tokenizer.Save(request.TokenizerDirectory);
        var config = loaded.Config;
        var processor = new ClipImageProcessor(ImageProcessorConfig.For(config));
        // Preprocessed images are kept in memory up to the budget: later epochs skip decoding those, memory stays bounded.
        var loaderOptions = new LoaderOptions(
            spec.BatchSize, Seed: unchecked((int)spec.Seed), DropLast: true, Workers: request.LoaderWorkers,
            CacheInMemory: spec.Augmentation is null && request.MemoryCacheBytes > 0, MemoryCacheBytes: request.MemoryCacheBytes,
            Augmentation: spec.Augmentation);
        // Bad samples were left out at registration's policy; a run skips (and counts) any the loader still meets.
        IBatchLoader loader = data.Shards is { } shards
            ? new ShardedLoader(shards.Set, processor, loaderOptions, new ShardLoaderOptions(Split: shards.Split, Policy: ValidationPolicy.Skip), shards.Scan)
            : new ImageTextLoader(data.Train, processor, loaderOptions);
        var device = request.Device ?? DeviceOptions.Cpu;
        var autocast = device.AutocastFor(spec.Precision);   // training and evaluation alike
        var evaluator = spec.Eval.Enabled || spec.Kind == JobKind.Evaluate ? new RunEvaluator(loaded.Model, tokenizer, processor, data, spec.Eval, spec.Seed, autocast) : null;
        var evaluating = new EvaluatingObserver(observer, evaluator, spec.Eval, request.ReportDirectory);
        if (spec.Kind == JobKind.Evaluate)
        {
            // Evaluation only: the base model and its mean-centered baseline, nothing trained or written.
            evaluating.Evaluate(0, "base", captioning: true);
            evaluating.Evaluate(0, "base_centered", captioning: true, centered: true);
            evaluating.Evaluate(0, "base_centered_noise", captioning: true, centered: true, noise: CollapseCorrupt.DefaultNoise);
            return new RunResult(new TrainingResult(0, [], null, null), null, trainCount, data.HeldOut.Samples.Count) { Evaluations = evaluating.Stored() };
        }
        using var batches = new LoaderBatchSource(loader, tokenizer, config.ContextLength);
        using var trainer = new Trainer(spec, loaded.Model, batches, request.CheckpointDirectory, evaluating, device);
        if (spec.Kind != JobKind.Pretrain)
        {
            // Skipped when a resumed run already has them. A pre-training run starts from random weights: its
            // "base" says nothing, and the model it makes is evaluated as the base of the runs that align it.
            evaluating.Evaluate(0, "base", captioning: true);
            evaluating.Evaluate(0, "base_centered", captioning: true, centered: true);
            evaluating.Evaluate(0, "base_centered_noise", captioning: true, centered: true, noise: CollapseCorrupt.DefaultNoise);
        }
        var result = trainer.Run(ct);
        evaluating.Evaluate(result.Steps, "final", captioning: true);

        var final = Path.Combine(request.OutputDirectory, "final");
        Directory.CreateDirectory(final);
        OpenClipCheckpoint.Save(loaded.Model, Path.Combine(final, CheckpointStore.WeightsFile));
        tokenizer.Save(final);
        // float32 whatever the job's precision: the fingerprint is what other loaders' float32 embeddings are checked against.
        var fingerprint = EmbeddingFingerprint.Compute(new ModelEmbedder(loaded.Model, tokenizer, processor), data.HeldOut, data.HeldOutName);
        return new RunResult(result, final, trainCount, data.HeldOut.Samples.Count)
        {
            Evaluations = evaluating.Stored(), FinalEmbeddings = fingerprint,
            SkippedByEpoch = loader is ShardedLoader sharded ? sharded.SkippedByEpoch : new Dictionary<int, int>(),
            SkippedErrors = loader is ShardedLoader withErrors ? withErrors.SkippedErrors : [],
        };
    }

    /// <summary>The base model, or for pre-training a preset with a tokenizer learned from the training captions.</summary>
    public static LoadedModel LoadModel(RunRequest request, ImageTextDataset train) =>
        LoadModel(request, train.Samples.SelectMany(s => s.Captions));

    /// <param name="trainCaptions">Read only when a tokenizer has to be learned (pre-training from scratch).</param>
    public static LoadedModel LoadModel(RunRequest request, IEnumerable<string> trainCaptions)
    {
        var spec = request.Spec;
        var options = new ModelLoadOptions(Device: request.Device, Hub: request.Hub);
        if (spec.Tokenizer is { } tokenizerPath) options = options with { TokenizerPath = tokenizerPath };
        if (spec.InitWeights is { } weights) return ModelLoader.Load(weights, options);
        if (spec.Tokenizer is not null) return ModelLoader.Load(spec.Model, options);
        if (!Directory.Exists(request.TokenizerDirectory))
        {
            // Learned once; a resumed run reads it back so the vocabulary cannot drift.
            ClipBpeTrainer.Train(trainCaptions, PretrainVocabSize).Save(request.TokenizerDirectory);
        }
        return ModelLoader.Load(spec.Model, options with { TokenizerPath = request.TokenizerDirectory });
    }
}
