using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Polly;
using TpcCma.Runs;
using TpcCma.Service.Hosting;
using TpcCma.Service.Persistence;
using TpcCma.Service.Telemetry;
using TpcCma.Training;

namespace TpcCma.Service.Jobs;

/// <summary>The last write of a job: succeeded (with its report, and its model registered), cancelled, or failed with a reason.</summary>
public static class JobOutcomes
{
    /// <summary>A finished job's row races with its last progress writes and a cancel: each change is reapplied to a fresh row.</summary>
    private static readonly ResiliencePipeline Conflicts = DatabaseRetry.ForConflicts(attempts: 10);

    public static async Task SucceedAsync(IDbContextFactory<TrainingDb> dbs, TimeProvider time, Guid jobId, RunResult result, ArtifactPaths paths, CancellationToken ct)
    {
        await UpdateAsync(dbs, jobId, async (db, job) =>
        {
            var now = time.GetUtcNow();
            var report = new
            {
                steps = result.Training.Steps,
                train_samples = result.TrainSamples,
                held_out_samples = result.HeldOutSamples,
                phases = result.Training.Transitions.Select(t => new { step = t.Step, from = t.From.Name(), to = t.To.Name(), reason = t.Reason }),
                final_metrics = result.Training.LastMetrics,
                evaluations = result.Evaluations,
                final_embeddings = result.FinalEmbeddings,
            };
            job.ReportProgress(result.Training.Steps, null);
            job.MarkSucceeded(JsonSerializer.Serialize(report, JobProgressWriter.JsonOptions), now);
            // Every finished job's model can be the base of another job.
            if (result.FinalModelDirectory is not null && !await db.Models.AnyAsync(m => m.JobId == jobId, ct))
            {
                db.Models.Add(new ModelRecord
                {
                    Id = Guid.CreateVersion7(), OwnerKeyId = job.OwnerKeyId, Name = job.Name, Source = "job",
                    // An artifact key, not this node's path: the node that uses it as a base model resolves it.
                    Reference = paths.KeyOf(Path.Combine(result.FinalModelDirectory, CheckpointStore.WeightsFile)), JobId = jobId, CreatedAt = now,
                });
            }
            db.Events.Add(JobEvent.Status(jobId, "succeeded", job.Step, now));
        }, ct);
        ServiceMetrics.JobFinished("succeeded");
    }

    public static async Task CancelAsync(IDbContextFactory<TrainingDb> dbs, TimeProvider time, Guid jobId, CancellationToken ct)
    {
        await UpdateAsync(dbs, jobId, (db, job) =>
        {
            var now = time.GetUtcNow();
            if (!job.Status.IsTerminal()) job.MarkCancelled(now);
            db.Events.Add(JobEvent.Status(jobId, "cancelled", job.Step, now));
            return Task.CompletedTask;
        }, ct);
        ServiceMetrics.JobFinished("cancelled");
    }

    public static async Task FailAsync(IDbContextFactory<TrainingDb> dbs, TimeProvider time, Guid jobId, Exception error, CancellationToken ct)
    {
        await UpdateAsync(dbs, jobId, (db, job) =>
        {
            var (code, message) = Classify(error);
            var now = time.GetUtcNow();
            if (!job.Status.IsTerminal()) job.MarkFailed(code, message, now);
            db.Events.Add(JobEvent.Status(jobId, $"failed: {message}", job.Step, now));
            return Task.CompletedTask;
        }, ct);
        ServiceMetrics.JobFinished("failed");
    }

    /// <summary>Error codes clients can branch on; the message is the exception's, which names what is wrong.</summary>
    public static (string Code, string Message) Classify(Exception error) => error switch
    {
        TrainingDivergedException d => ("diverged", d.Message),
        ProgressNotStoredException p => ("progress_not_stored", p.Message),
        // Not the job's own cancel (that is caught before): a dependency gave up, e.g. an HTTP client's timeout.
        OperationCanceledException { InnerException: TimeoutException } => ("timeout", $"a dependency timed out: {error.Message}"),
        OperationCanceledException => ("interrupted", $"a dependency was cancelled while the job ran ({error.GetType().Name}: {error.Message})"),
        ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException => ("invalid_input", error.Message),
        IOException => ("io_error", error.Message),
        OutOfMemoryException => ("out_of_memory", error.Message),
        _ => ("internal_error", $"{error.GetType().Name}: {error.Message}"),
    };

    private static async Task UpdateAsync(IDbContextFactory<TrainingDb> dbs, Guid jobId, Func<TrainingDb, TrainingJob, Task> change, CancellationToken ct) =>
        await Conflicts.ExecuteAsync(async token =>
        {
            await using var db = await dbs.CreateDbContextAsync(token);
            var job = await db.Jobs.FirstAsync(j => j.Id == jobId, token);
            await change(db, job);
            await db.SaveChangesAsync(token);
        }, ct);
}
