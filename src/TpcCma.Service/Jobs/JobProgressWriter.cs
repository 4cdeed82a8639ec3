using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Polly;
using TpcCma.Curriculum;
using TpcCma.Diagnostics;
using TpcCma.Service.Persistence;
using TpcCma.Service.Telemetry;

namespace TpcCma.Service.Jobs;

/// <summary>
/// The worker's side of live progress: the training thread hands metrics, events and checkpoints to a channel
/// (never blocking on the database) and a background loop writes them in batches with short-lived contexts.
/// When PostgreSQL is unreachable the batch is kept and retried within a <see cref="RetryBudget"/>, so a database
/// restart loses nothing. Any other error, or an outage past the budget, breaks the writer: it stops, keeps the error
/// in <see cref="Failure"/> and fires <see cref="Broken"/>, and the job fails with it (a run whose progress cannot be
/// stored must not go on as if it were).
/// Metric rows are upserted per (job, name, step): a step replayed after a resume replaces its old value.
/// </summary>
public sealed class JobProgressWriter : IAsyncDisposable
{
    public abstract record Item;
    public sealed record Metrics(long Step, IReadOnlyDictionary<string, double> Values) : Item;
    public sealed record Event(JobEventKind Kind, long? Step, string Message, object? Data) : Item;
    public sealed record Progress(long Step, TrainingPhase? Phase) : Item;
    public sealed record Checkpoint(long Step, TrainingPhase Phase, string Location, long SizeBytes, string Sha256) : Item;
    /// <summary>The run resumed from a checkpoint at <see cref="Step"/>: later points will be replayed.</summary>
    public sealed record Rewind(long Step) : Item;

    /// <summary>The fault tests' point: a programming error while writing the batch that holds this step's metrics.</summary>
    public const string FaultPoint = "progress-write";

    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(200);
    private readonly Channel<Item> channel = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource broken = new();
    private readonly IDbContextFactory<TrainingDb> dbs;
    private readonly Guid jobId;
    private readonly ILogger log;
    private readonly TimeProvider time;
    private readonly ResiliencePipeline retry;
    private readonly Task loop;

    public JobProgressWriter(IDbContextFactory<TrainingDb> dbs, Guid jobId, ILogger log, TimeProvider time, RetryBudget? budget = null)
    {
        (this.dbs, this.jobId, this.log, this.time) = (dbs, jobId, log, time);
        retry = DatabaseRetry.ForOutages(budget ?? RetryBudget.DatabaseOutage, time, log, $"Writing progress of job {jobId}", ServiceMetrics.ProgressRetried);
        loop = Task.Run(RunAsync);
    }

    /// <summary>Items written so far; tests and the flush on shutdown use it.</summary>
    public long Written { get; private set; }

    /// <summary>Why the writer stopped: an error that is not transient, or the last one of an outage past the budget.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Fires when the writer stops for good (<see cref="Failure"/> is set first); the executor cancels the run on it.</summary>
    public CancellationToken Broken => broken.Token;

    /// <summary>Hands an item to the writer; dropped once the writer is broken (the job is failing then).</summary>
    public void Post(Item item) => channel.Writer.TryWrite(item);

    private async Task RunAsync()
    {
        var batch = new List<Item>();
        while (await channel.Reader.WaitToReadAsync())
        {
            await Task.Delay(BatchWindow, time);
            while (channel.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                // Training goes on while a batch is retried: new items queue up behind it.
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                await retry.ExecuteAsync(async _ => await WriteAsync(batch), CancellationToken.None);
                ServiceMetrics.ProgressWritten(batch.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                Written += batch.Count;
                batch.Clear();
            }
            catch (Exception ex)
            {
                // Recorded, not swallowed: the executor fails the job with this error.
                log.LogError(ex, "Writing progress of job {JobId} failed for good; {Pending} items are not stored", jobId, batch.Count);
                Failure = ex;
                channel.Writer.TryComplete();
                await broken.CancelAsync();
                return;
            }
        }
    }

    private async Task WriteAsync(List<Item> batch)
    {
        if (batch.OfType<Metrics>().Any(m => FaultInjection.IsArmed(FaultPoint, m.Step)))
            throw new InvalidOperationException($"fault injected at {FaultPoint}: a programming error while writing progress");
        await using var db = await dbs.CreateDbContextAsync();
        await using var tx = await db.Database.BeginTransactionAsync();
        if (batch.OfType<Rewind>().LastOrDefault() is { } rewind)
        {
            await db.Metrics.Where(m => m.JobId == jobId && m.Step > rewind.Step).ExecuteDeleteAsync();
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Step, rewind.Step));
        }
        var points = batch.OfType<Metrics>().SelectMany(m => m.Values.Where(v => double.IsFinite(v.Value)).Select(v => (m.Step, v.Key, v.Value)))
            .GroupBy(p => (p.Step, p.Key)).Select(g => g.Last()).ToList();
        if (points.Count > 0)
        {
            await db.Database.ExecuteSqlRawAsync(
                """
                INSERT INTO metrics ("JobId", "Name", "Step", "Value")
                SELECT @job, n, s, v FROM unnest(@names, @steps, @values) AS t(n, s, v)
                ON CONFLICT ("JobId", "Name", "Step") DO UPDATE SET "Value" = EXCLUDED."Value"
                """,
                new NpgsqlParameter("job", jobId),
                new NpgsqlParameter("names", points.Select(p => p.Key).ToArray()),
                new NpgsqlParameter("steps", points.Select(p => p.Step).ToArray()),
                new NpgsqlParameter("values", points.Select(p => p.Value).ToArray()));
        }
        foreach (var e in batch.OfType<Event>())
        {
            db.Events.Add(new JobEvent
            {
                JobId = jobId, Kind = e.Kind, Step = e.Step, Message = e.Message, CreatedAt = time.GetUtcNow(),
                Data = e.Data is null ? null : JsonSerializer.Serialize(e.Data, JsonOptions),
            });
        }
        foreach (var c in batch.OfType<Checkpoint>())
        {
            await db.Checkpoints.Where(x => x.JobId == jobId && x.Step == c.Step).ExecuteDeleteAsync();
            db.Checkpoints.Add(new CheckpointRecord
            {
                Id = Guid.CreateVersion7(), JobId = jobId, Step = c.Step, Phase = c.Phase.Name(), Location = c.Location,
                SizeBytes = c.SizeBytes, Sha256 = c.Sha256, CreatedAt = time.GetUtcNow(),
            });
        }
        await db.SaveChangesAsync();
        if (batch.OfType<Progress>().LastOrDefault() is { } progress)
        {
            var phase = progress.Phase?.Name();
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Step, j => progress.Step > j.Step ? progress.Step : j.Step)
                .SetProperty(j => j.Phase, j => phase ?? j.Phase));
        }
        await tx.CommitAsync();
    }

    /// <summary>snake_case; NaN and infinities as strings, since jsonb accepts only standard JSON numbers.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes everything posted so far, waiting through a database outage within the budget; returns at once when broken.</summary>
    public async ValueTask DisposeAsync()
    {
        channel.Writer.TryComplete();
        await loop;
    }
}
