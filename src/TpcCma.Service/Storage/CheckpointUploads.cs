using System.Threading.Channels;
using TpcCma.Service.Hosting;
using TpcCma.Training;

namespace TpcCma.Service.Storage;

/// <summary>
/// The upload queue of one running job: the training thread hands each written checkpoint over and goes on; a
/// background loop copies the step folder, the tokenizer and the reports to the shared store, then
/// <c>latest.json</c> last, so the store's <c>latest.json</c> only ever names a checkpoint that is there in full.
/// Checkpoints go up in the order they were written (when uploads fall behind, only the newest waiting one); the
/// <c>uploaded</c> callback runs after each one is complete.
/// </summary>
public sealed class CheckpointUploads : IAsyncDisposable
{
    private readonly Channel<CheckpointInfo> queue = Channel.CreateUnbounded<CheckpointInfo>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IArtifactStore store;
    private readonly ArtifactPaths paths;
    private readonly Guid jobId;
    private readonly Action<CheckpointInfo> uploaded;
    private readonly ILogger log;
    private readonly CancellationTokenSource abandon = new();
    private readonly Task loop;
    private bool tokenizerStored;

    public CheckpointUploads(IArtifactStore store, ArtifactPaths paths, Guid jobId, Action<CheckpointInfo> uploaded, ILogger log)
    {
        (this.store, this.paths, this.jobId, this.uploaded, this.log) = (store, paths, jobId, uploaded, log);
        loop = Task.Run(RunAsync);
    }

    /// <summary>Queues a checkpoint; never blocks.</summary>
    public void Enqueue(CheckpointInfo checkpoint) => queue.Writer.TryWrite(checkpoint);

    /// <summary>At the end of a run: waits for every queued upload, then uploads the job's <c>final/</c> folder when there is one.</summary>
    public async Task FinishAsync(string? finalDirectory, CancellationToken ct)
    {
        queue.Writer.TryComplete();
        await loop;
        if (finalDirectory is not null) await PutFolderAsync(finalDirectory, ct);
    }

    /// <summary>Waits until the queue is empty, or gives up after <paramref name="limit"/> (a worker that is going away).</summary>
    public async Task DrainAsync(TimeSpan limit)
    {
        queue.Writer.TryComplete();
        if (await Task.WhenAny(loop, Task.Delay(limit)) != loop)
        {
            log.LogWarning("Checkpoint uploads of job {JobId} abandoned after {Limit}; the last uploaded checkpoint is the one to resume from", jobId, limit);
            await abandon.CancelAsync();
        }
        await loop;
    }

    private async Task RunAsync()
    {
        await foreach (var next in queue.Reader.ReadAllAsync())
        {
            // Behind the trainer: only the newest waiting checkpoint goes up (resuming needs no other), the rest stay local.
            var checkpoint = next;
            while (queue.Reader.TryRead(out var newer)) checkpoint = newer;
            if (checkpoint != next) log.LogInformation("Job {JobId}: uploads behind, checkpoint {Step} goes up, older waiting ones stay local", jobId, checkpoint.Step);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await UploadAsync(checkpoint, abandon.Token);
                    uploaded(checkpoint);
                    break;
                }
                catch (OperationCanceledException) when (abandon.IsCancellationRequested) { return; }
                catch (Exception ex) when (ex is IOException or Amazon.Runtime.AmazonServiceException or HttpRequestException && attempt < 5)
                {
                    log.LogWarning("Uploading checkpoint {Step} of job {JobId} failed (attempt {Attempt}): {Message}", checkpoint.Step, jobId, attempt, ex.Message);
                    try { await Task.Delay(TimeSpan.FromSeconds(attempt), abandon.Token); }
                    catch (OperationCanceledException) { return; }
                }
                catch (Exception ex)
                {
                    // The local copy is intact: this node can still resume from it, and a later checkpoint may go up.
                    log.LogError(ex, "Checkpoint {Step} of job {JobId} was not uploaded", checkpoint.Step, jobId);
                    break;
                }
            }
        }
    }

    private async Task UploadAsync(CheckpointInfo checkpoint, CancellationToken ct)
    {
        var jobDirectory = paths.JobDirectory(jobId);
        await PutFolderAsync(checkpoint.Directory, ct);
        if (!tokenizerStored)
        {
            // Written once when the run starts and never changed: one upload per run is enough.
            await PutFolderAsync(Path.Combine(jobDirectory, "tokenizer"), ct);
            tokenizerStored = true;
        }
        await PutFolderAsync(Path.Combine(jobDirectory, "reports"), ct);
        // latest.json as written for this step: the local file may already name a newer checkpoint still queued.
        var latest = Path.Combine(Path.GetTempPath(), $"tpccma-latest-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(latest, CheckpointStore.LatestJson(checkpoint.Step), ct);
            await store.PutFileAsync(JobArtifactSync.LatestKey(jobId), latest, ct);
        }
        finally { File.Delete(latest); }
    }

    private async Task PutFolderAsync(string directory, CancellationToken ct)
    {
        if (!Directory.Exists(directory)) return;
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            if (JobArtifactSync.IsLocalOnly(file)) continue;
            await store.PutFileAsync(paths.KeyOf(file), file, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await abandon.CancelAsync();
        queue.Writer.TryComplete();
        await loop;
        abandon.Dispose();
    }
}
