using TpcCma.Service.Hosting;
using TpcCma.Training;

namespace TpcCma.Service.Storage;

/// <summary>
/// Keeps a job's folder on this node and its copy in a shared store (<c>Storage:Kind=s3</c>) in step: checkpoints
/// go up as they are written (<see cref="StartUploads"/>), a node that takes over a job fetches the newest one
/// first (<see cref="RestoreAsync"/>), and an API node fetches what it serves. Store keys are the job folder's
/// relative paths (<c>jobs/{id:N}/checkpoints/step_000020/model.safetensors</c>), so a checkpoint's recorded
/// location names the same thing on disk and in the store. With a local store everything here is a no-op.
/// </summary>
public sealed class JobArtifactSync(IArtifactStore store, ArtifactPaths paths, bool shared, ILogger<JobArtifactSync> log)
{
    /// <summary>Whether checkpoints are shared through the store (true for S3; a local store is the job folder itself).</summary>
    public bool Shared { get; } = shared;

    public IArtifactStore Store { get; } = store;

    public static string CheckpointsKey(Guid jobId) => $"{ArtifactPaths.JobKey(jobId)}/checkpoints";

    public static string LatestKey(Guid jobId) => $"{CheckpointsKey(jobId)}/{CheckpointStore.LatestFile}";

    /// <summary>Files a node derives on its own (hashes, HF exports, temporaries) and never shares.</summary>
    public static bool IsLocalOnly(string path)
    {
        var name = Path.GetFileName(path);
        return name.StartsWith('.') || name.EndsWith(".sha256", StringComparison.Ordinal) || name.EndsWith(".tmp", StringComparison.Ordinal)
            || name.Contains(".partial-", StringComparison.Ordinal) || name == Jobs.CheckpointExports.HfTar;
    }

    /// <summary>The upload queue for a job starting on this node, or null when nothing is shared.</summary>
    public CheckpointUploads? StartUploads(Guid jobId, Action<CheckpointInfo> uploaded) =>
        Shared ? new CheckpointUploads(Store, paths, jobId, uploaded, log) : null;

    /// <summary>
    /// Before a job (re)starts here: when the store holds a newer checkpoint than this node's job folder, downloads
    /// it with the tokenizer and reports, then <c>latest.json</c> last, so the trainer resumes from it.
    /// Returns the step fetched, or null when the local folder is already current (or nothing is shared).
    /// </summary>
    public async Task<long?> RestoreAsync(Guid jobId, CancellationToken ct)
    {
        if (!Shared || await Store.GetInfoAsync(LatestKey(jobId), ct) is null) return null;
        await using var latestStream = await Store.OpenReadAsync(LatestKey(jobId), ct: ct);
        var remoteStep = CheckpointStore.LatestStep(await new StreamReader(latestStream).ReadToEndAsync(ct), LatestKey(jobId));
        var checkpoints = paths.CheckpointDirectory(jobId);
        var localLatest = Path.Combine(checkpoints, CheckpointStore.LatestFile);
        if (File.Exists(localLatest))
        {
            var localStep = CheckpointStore.LatestStep(await File.ReadAllTextAsync(localLatest, ct), localLatest);
            if (localStep >= remoteStep && Directory.Exists(Path.Combine(checkpoints, CheckpointStore.StepDirectoryName(localStep)))) return null;
        }
        var jobKey = ArtifactPaths.JobKey(jobId);
        var files = await DownloadPrefixAsync($"{CheckpointsKey(jobId)}/{CheckpointStore.StepDirectoryName(remoteStep)}/", ct);
        if (files == 0) throw new InvalidDataException($"the store's {LatestKey(jobId)} names step {remoteStep}, but that checkpoint is not in the store");
        await DownloadPrefixAsync($"{jobKey}/tokenizer/", ct);
        await DownloadPrefixAsync($"{jobKey}/reports/", ct);
        Directory.CreateDirectory(checkpoints);
        await File.WriteAllTextAsync(localLatest + ".tmp", CheckpointStore.LatestJson(remoteStep), ct);
        File.Move(localLatest + ".tmp", localLatest, overwrite: true);
        log.LogInformation("Job {JobId}: fetched checkpoint {Step} ({Files} files) from the store", jobId, remoteStep, files);
        return remoteStep;
    }

    /// <summary>
    /// Makes a checkpoint folder (by its recorded location) and the job's tokenizer present on this node, fetching
    /// from the store what is missing; returns the local checkpoint folder.
    /// </summary>
    public async Task<string> FetchCheckpointAsync(Guid jobId, string location, CancellationToken ct)
    {
        var directory = paths.Resolve(location);
        if (!Shared) return directory;
        if (!File.Exists(Path.Combine(directory, CheckpointStore.WeightsFile)))
            await Store.GetFileAsync($"{location}/{CheckpointStore.WeightsFile}", Path.Combine(directory, CheckpointStore.WeightsFile), ct);
        if (!Directory.Exists(paths.TokenizerDirectory(jobId)))
            await DownloadPrefixAsync($"{ArtifactPaths.JobKey(jobId)}/tokenizer/", ct);
        return directory;
    }

    /// <summary>Downloads every object under a folder prefix to the same place under the local root; returns how many.</summary>
    private async Task<int> DownloadPrefixAsync(string prefix, CancellationToken ct)
    {
        var count = 0;
        await foreach (var item in Store.ListAsync(prefix, ct))
        {
            await Store.GetFileAsync(item.Key, paths.Resolve(item.Key), ct);
            count++;
        }
        return count;
    }
}
