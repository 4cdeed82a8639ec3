using System.Text.Json;
using Microsoft.EntityFrameworkCore;
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
            spec = spec with { Dataset = dataset.Location };
        }
        var run = new Run(spec.InitWeights, spec.Dataset, device.DeviceName, options.EffectiveNodeName);
        return (spec, JsonSerializer.Serialize(run, TrainingSpec.JsonOptions));
    }

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
