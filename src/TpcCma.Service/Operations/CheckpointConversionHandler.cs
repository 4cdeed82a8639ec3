using System.Text.Json.Nodes;
using TpcCma.Service.Hosting;
using TpcCma.Service.Jobs;
using TpcCma.Service.Storage;

namespace TpcCma.Service.Operations;

/// <summary>
/// <c>checkpoint-conversion</c>: writes a checkpoint as a Hugging Face CLIP folder in a tar beside it, on a worker
/// (it loads the whole model). With a shared artifact store the tar is uploaded, so any API node can stream it.
/// Safe to repeat: a tar already converted is found and not converted again.
/// </summary>
public sealed class CheckpointConversionHandler(CheckpointExports exports, JobArtifactSync artifacts, ArtifactPaths paths) : IOperationHandler
{
    public string Kind => OperationKinds.CheckpointConversion;

    /// <summary>What the download request stores for the worker: the job, the step, where the checkpoint is, the file name.</summary>
    public static JsonObject Input(Guid jobId, long step, string location, string name) =>
        new() { ["job"] = jobId.ToString(), ["step"] = step, ["location"] = location, ["name"] = name };

    /// <summary>One conversion in flight per checkpoint, however many requests ask for it.</summary>
    public static string Subject(Guid jobId, long step) => $"{OperationKinds.CheckpointConversion}:{jobId:N}/{step}";

    public async Task<JsonObject> RunAsync(OperationContext context, CancellationToken ct)
    {
        var jobId = Guid.Parse(context.RequiredInput("job"));
        var step = context.Input["step"]!.GetValue<long>();
        var location = context.RequiredInput("location");
        context.Report(0.05, $"fetching checkpoint {step} of job {jobId}");
        string directory;
        try
        {
            directory = await artifacts.FetchCheckpointAsync(jobId, location, ct);
        }
        catch (FileNotFoundException ex)
        {
            throw new OperationFailedException($"checkpoint {step} of job {jobId} is not in the artifact store: {ex.Message}", ex);
        }
        context.Report(0.2, $"converting checkpoint {step} of job {jobId} to a Hugging Face folder");
        ExportedFile file;
        try
        {
            file = await exports.ConvertHfAsync(directory, paths.TokenizerDirectory(jobId), context.RequiredInput("name"), ct);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException)
        {
            throw new OperationFailedException($"checkpoint {step} of job {jobId} could not be converted: {ex.Message}", ex);
        }
        var key = $"{location}/{CheckpointExports.HfTar}";
        if (artifacts.Shared)
        {
            context.Report(0.9, $"uploading the Hugging Face folder of checkpoint {step}");
            await artifacts.Store.PutFileAsync(key, file.Path, ct);
        }
        context.Report(1, $"converted checkpoint {step} of job {jobId}");
        return new JsonObject
        {
            ["job"] = jobId.ToString(), ["step"] = step, ["format"] = "hf", ["artifact_key"] = key, ["size_bytes"] = file.Size, ["sha256"] = file.Sha256,
            ["download"] = $"/v1/jobs/{jobId}/checkpoints/{step}/download?format=hf",
        };
    }
}
