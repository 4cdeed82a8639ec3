using TpcCma.Checkpoints;
using TpcCma.Data;
using TpcCma.Data.Shards;
using TpcCma.Model;
using TpcCma.Training;

namespace TpcCma.Runs;

/// <summary>
/// Everything a job needs besides its spec: where to write, on which device, and how to reach a hub.
/// The spec's <c>init_weights</c> and <c>dataset</c> are already resolved to loadable locations.
/// </summary>
/// <param name="OutputDirectory">The run's folder: <c>checkpoints/</c>, <c>tokenizer/</c>, <c>reports/</c>. A second
/// run on the same folder resumes from its newest checkpoint.</param>
/// <param name="LoaderWorkers">Image decode threads; the data loader keeps ahead of the trainer with 2 on this size of model.</param>
/// <param name="MemoryCacheBytes">Byte budget of the loader's in-memory cache of preprocessed images (0 turns it off).</param>
/// <param name="ShardSources">Readers for shard locations beyond local files (the service adds <c>s3://</c>); null: local files only.</param>
public sealed record RunRequest(
    TrainingSpec Spec,
    string OutputDirectory,
    DeviceOptions? Device = null,
    HubOptions? Hub = null,
    int LoaderWorkers = 2,
    long MemoryCacheBytes = LoaderOptions.DefaultMemoryCacheBytes,
    ShardSources? ShardSources = null)
{
    public string CheckpointDirectory => Path.Combine(OutputDirectory, "checkpoints");
    public string TokenizerDirectory => Path.Combine(OutputDirectory, "tokenizer");
    public string ReportDirectory => Path.Combine(OutputDirectory, "reports");

    /// <summary>Where a shard data set's evaluation splits are copied as image files (rewritten on every start).</summary>
    public string ShardEvalDirectory => Path.Combine(OutputDirectory, "shard-eval");
}
