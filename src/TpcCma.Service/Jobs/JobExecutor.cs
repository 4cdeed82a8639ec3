using TpcCma.Model;
using TpcCma.Runs;
using TpcCma.Training;

namespace TpcCma.Service.Jobs;

/// <summary>
/// Runs one job on this worker: takes the lease, marks it running, streams progress through a
/// <see cref="JobProgressWriter"/>, watches for a cancel request, and records how it ended. A second start of
/// a job whose lease another live worker holds does nothing; a start after a crash resumes from the checkpoint.
/// </summary>
public sealed class JobExecutor(IDbContextFactory<TrainingDb> dbs, ArtifactPaths paths, ServiceOptions options, HubSettings hub,
    JobLeases leases, JobArtifactSync artifacts, DatasetShardSources shardSources, TimeProvider time, ILogger<JobExecutor> log)
{
    /// <summary>Marking the job running races with the lease's heartbeat and a cancel: reapplied to a fresh row.</summary>
    private static readonly Polly.ResiliencePipeline Conflicts = DatabaseRetry.ForConflicts(attempts: 10);

    private static readonly TimeSpan CancelPoll = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a worker that is going away keeps uploading queued checkpoints (within Hangfire's shutdown timeout).</summary>
    private static readonly TimeSpan UploadGrace = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Every way out ends in a recorded state: succeeded, cancelled, handed back (the job stays running for the next
    /// worker, which resumes it from its checkpoint), or failed with a reason (also when its progress cannot be
    /// stored). A failure is rethrown as a
    /// <see cref="JobFailedException"/> once recorded, so that Hangfire shows the job Failed too (it never retries it).
    /// </summary>
    public async Task ExecuteAsync(Guid jobId, CancellationToken shutdown)
    {
        var node = options.EffectiveNodeName;
        // Every log line written while this job runs (progress writer, uploads, database retries) carries its id.
        using var logScope = log.BeginScope(new Dictionary<string, object> { ["JobId"] = jobId, ["Node"] = node });
        await using var lease = await DatabaseRetry.RunAsync(() => leases.AcquireAsync(jobId, node, shutdown), time, log, jobId, shutdown);
        if (lease is null) return;   // ended already, or running on a live worker: this start is a duplicate
        using var running = ServiceMetrics.JobRunning();

        var outputDirectory = paths.JobDirectory(jobId);
        await using var progress = new JobProgressWriter(dbs, jobId, log, time);
        JobObserver? observer = null;
        await using var uploads = artifacts.StartUploads(jobId, uploaded => observer!.Record(uploaded));
        observer = new JobObserver(progress, paths, uploads, () => shutdown.IsCancellationRequested || lease.Lost.IsCancellationRequested);
        // A broken progress writer stops the run too: its error then fails the job (below).
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(shutdown, progress.Broken);
        var watcher = WatchForCancelAsync(jobId, cancel, lease.Lost);
        try
        {
            // The spec names the model and data set by id; this node resolves where they are (its data root, its device).
            var spec = await DatabaseRetry.RunAsync(() => MarkRunningAsync(jobId, node, cancel.Token), time, log, jobId, cancel.Token);
            if (spec is null) return;   // cancelled between taking the lease and starting
            var request = new RunRequest(spec, outputDirectory, DeviceFor(options), hub.Options, MemoryCacheBytes: (long)options.LoaderMemoryCacheMiB << 20,
                ShardSources: shardSources.Sources);
            // A node taking over a job started elsewhere needs its newest checkpoint here before the trainer looks.
            if (await artifacts.RestoreAsync(jobId, cancel.Token) is { } fetched)
                progress.Post(new JobProgressWriter.Event(JobEventKind.Fetched, fetched, $"fetched checkpoint {fetched} from the artifact store to {node}", null));
            // Training is synchronous on a dedicated thread: TorchSharp's dispose scopes belong to their thread.
            var result = await Task.Factory.StartNew(() => TrainingRun.Execute(request, observer, cancel.Token),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            if (uploads is not null) await uploads.FinishAsync(result.FinalModelDirectory, shutdown);
            if (result.SkippedByEpoch.Count > 0)
            {
                // Policy skip on shards: the user sees what training left out, per epoch, and why.
                var total = result.SkippedByEpoch.Values.Sum();
                progress.Post(new JobProgressWriter.Event(JobEventKind.Skipped, result.Training.Steps,
                    $"left out {total} sample(s) with problems: " + string.Join(", ", result.SkippedByEpoch.Select(p => $"{p.Value} in epoch {p.Key}")),
                    new { by_epoch = result.SkippedByEpoch, first_errors = result.SkippedErrors.Take(20).Select(e => e.ToString()) }));
            }
            await progress.DisposeAsync();
            if (progress.Failure is { } lost) throw new ProgressNotStoredException(jobId, lost);
            await DatabaseRetry.RunAsync(() => JobOutcomes.SucceedAsync(dbs, time, jobId, result, paths, CancellationToken.None), time, log, jobId, CancellationToken.None);
            log.LogInformation("Job {JobId} succeeded after {Steps} steps", jobId, result.Training.Steps);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested && !progress.Broken.IsCancellationRequested)
        {
            if (uploads is not null) await uploads.DrainAsync(UploadGrace);   // the next node resumes from what is uploaded
            await progress.DisposeAsync();
            if (shutdown.IsCancellationRequested || lease.Lost.IsCancellationRequested)
            {
                // The worker is going away (or was declared dead): the job stays running for the next worker, which resumes it.
                log.LogInformation("Job {JobId} handed back at shutdown; its checkpoint is kept", jobId);
                throw;
            }
            await DatabaseRetry.RunAsync(() => JobOutcomes.CancelAsync(dbs, time, jobId, CancellationToken.None), time, log, jobId, CancellationToken.None);
            log.LogInformation("Job {JobId} cancelled", jobId);
        }
        catch (Exception thrown)
        {
            // Anything else fails the job, including an OperationCanceledException that is not the job's own (an HTTP
            // timeout inside a dependency): left uncaught it would leave the row running with no worker. When the
            // progress writer broke, the run was stopped for it: its error is the reason.
            if (uploads is not null) await uploads.DrainAsync(UploadGrace);
            await progress.DisposeAsync();
            var ex = thrown is not ProgressNotStoredException && progress.Failure is { } lost ? new ProgressNotStoredException(jobId, lost) : thrown;
            log.LogError(ex, "Job {JobId} failed", jobId);
            var (code, message) = JobOutcomes.Classify(ex);
            await DatabaseRetry.RunAsync(() => JobOutcomes.FailAsync(dbs, time, jobId, ex, CancellationToken.None), time, log, jobId, CancellationToken.None);
            throw new JobFailedException(jobId, code, message, ex);
        }
        finally
        {
            await cancel.CancelAsync();
            await watcher;
        }
    }

    /// <returns>The spec to train, or null when the job was cancelled before it could start.</returns>
    private async Task<TrainingSpec?> MarkRunningAsync(Guid jobId, string node, CancellationToken ct) =>
        await Conflicts.ExecuteAsync(async token =>
        {
            await using var db = await dbs.CreateDbContextAsync(token);
            var job = await db.Jobs.FirstAsync(j => j.Id == jobId, token);
            if (job.Status.IsTerminal()) return null;
            var (spec, run) = await JobRuns.ResolveAsync(db, job, paths, options, DeviceFor(options), token);
            var now = time.GetUtcNow();
            job.MarkRunning(now);
            job.RecordRun(run);
            db.Events.Add(JobEvent.Status(jobId, $"running on {node} (attempt {job.Attempts})", job.Step, now));
            await db.SaveChangesAsync(token);
            log.LogInformation("Job {JobId} ({Kind}) running on {Node}, attempt {Attempt}", jobId, job.Kind, node, job.Attempts);
            return (TrainingSpec?)spec;
        }, ct);

    /// <summary>A cancel request arrives as the row's status; the trainer checks the token every step.</summary>
    private async Task WatchForCancelAsync(Guid jobId, CancellationTokenSource cancel, CancellationToken leaseLost)
    {
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CancelPoll, time, cancel.Token);
                if (leaseLost.IsCancellationRequested) { await cancel.CancelAsync(); return; }
                await using var db = await dbs.CreateDbContextAsync(cancel.Token);
                var status = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.Status).FirstAsync(cancel.Token);
                if (status is JobStatus.Cancelling or JobStatus.Cancelled) await cancel.CancelAsync();
            }
            catch (OperationCanceledException) { return; }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException)
            {
                log.LogWarning("Cancel check for job {JobId} failed: {Message}", jobId, ex.Message);   // the database may be restarting
            }
        }
    }

    private static DeviceOptions DeviceFor(ServiceOptions options) =>
        TorchSharp.torch.cuda.is_available() ? DeviceOptions.Parse($"cuda:{options.DeviceIndex}", bf16Autocast: options.Bf16) : DeviceOptions.Cpu;
}
