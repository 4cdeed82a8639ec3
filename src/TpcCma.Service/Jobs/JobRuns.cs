using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TpcCma.Data.Shards;
using TpcCma.Model;
using TpcCma.Service.Hosting;
using TpcCma.Service.Persistence;
using TpcCma.Training;

namespace TpcCma.Service.Jobs;

/// <summary>
/// Turns a job's spec (which names its base model and dataset by id) into the spec the trainer runs on this node: the
/// model's weights and the dataset's folder as paths here. The resolution is recorded on the job row as its run, apart
/// from the user's spec.
/// </summary>
public static class JobRuns
{
    public sealed record Run(string? InitWeights, string? Dataset, string Device, string Node);

    /// <summary>The <see cref="DatasetRecord.Source"/> of a data set registered as a WebDataset shard list.</summary>
    public const string ShardDatasetSource = "shards";

    public static async Task<(TrainingSpec Spec, string Run)> ResolveAsync(TrainingDb db, TrainingJob job, ArtifactPaths paths,
        ServiceOptions options, DeviceOptions device, CancellationToken ct)
    {
        var spec = TrainingSpec.FromJson(job.Spec);
        // Jobs stored before specs named their inputs by id carry the paths in the spec already.
        if (spec.InitWeights is null && job.BaseModelId is { } modelId)
        {
            var model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == modelId, ct)
                ?? throw new InvalidDataException($"base_model {modelId} no longer exists");
            spec = spec with { InitWeights = ModelLocation(model, paths, options) };
        }
        if (spec.Dataset is null && job.DatasetId is { } datasetId)
        {
            var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == datasetId, ct)
                ?? throw new InvalidDataException($"dataset {datasetId} no longer exists");
            spec = spec with { Dataset = DatasetLocation(dataset, options) };
        }
        var run = new Run(spec.InitWeights, spec.Dataset, device.DeviceName, options.EffectiveNodeName);
        return (spec, JsonSerializer.Serialize(run, TrainingSpec.JsonOptions));
    }

    /// <summary>
    /// Where a data set is on this node: a shard list is stored relative to the data root (<c>s3://</c> parts as they are)
    /// and made absolute here; other data sets are stored as their path.
    /// </summary>
    public static string DatasetLocation(DatasetRecord dataset, ServiceOptions options) =>
        dataset.Source == ShardDatasetSource ? ShardList.Rebase(dataset.Location, Path.GetFullPath(options.DataRoot)) : dataset.Location;

    /// <summary>
    /// Where a model's weights are on this node: imports are stored relative to the data root, job models as artifact
    /// keys; hub references and presets are passed to the loader as they are.
    /// </summary>
    public static string ModelLocation(ModelRecord model, ArtifactPaths paths, ServiceOptions options) => model.Source switch
    {
        _ when Path.IsPathRooted(model.Reference) => model.Reference,   // stored before references were kept node-free
        "import" => DataRootPaths.Resolve(Path.GetFullPath(options.DataRoot), model.Reference),
        "job" => paths.Resolve(model.Reference),
        _ => model.Reference,
    };
}
