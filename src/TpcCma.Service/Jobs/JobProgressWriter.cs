using System.Data.Common;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using TpcCma.Service.Persistence;
using TpcCma.Service.Telemetry;

namespace TpcCma.Service.Jobs;

/// <summary>
/// The worker's side of live progress: the training thread hands metrics, events and checkpoints to a channel
/// (never blocking on the database) and a background loop writes them in batches with short-lived contexts.
/// When PostgreSQL is unreachable the batch is kept and retried, so a database restart loses nothing.
/// Metric rows are upserted per (job, name, step): a step replayed after a resume replaces its old value.
/// </summary>
public sealed class JobProgressWriter : IAsyncDisposable
{
    public abstract record Item;
    public sealed record Metrics(long Step, IReadOnlyDictionary<string, double> Values) : Item;
    public sealed record Event(string Kind, long? Step, string Message, object? Data) : Item;
    public sealed record Progress(long Step, string? Phase) : Item;
    public sealed record Checkpoint(long Step, string Phase, string Location, long SizeBytes, string Sha256) : Item;
    /// <summary>The run resumed from a checkpoint at <see cref="Step"/>: later points will be replayed.</summary>
    public sealed record Rewind(long Step) : Item;

    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(200);
    private readonly Channel<Item> channel = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IDbContextFactory<TrainingDb> dbs;
    private readonly Guid jobId;
    private readonly ILogger log;
    private readonly Task loop;

    public JobProgressWriter(IDbContextFactory<TrainingDb> dbs, Guid jobId, ILogger log)
    {
        (this.dbs, this.jobId, this.log) = (dbs, jobId, log);
        loop = Task.Run(RunAsync);
    }

    /// <summary>Items written so far; tests and the flush on shutdown use it.</summary>
    public long Written { get; private set; }

    public void Post(Item item) => channel.Writer.TryWrite(item);

    private async Task RunAsync()
    {
        var batch = new List<Item>();
        while (await channel.Reader.WaitToReadAsync())
        {
            await Task.Delay(BatchWindow);
            while (channel.Reader.TryRead(out var item)) batch.Add(item);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    await WriteAsync(batch);
                    ServiceMetrics.ProgressWritten(batch.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                    Written += batch.Count;
                    batch.Clear();
                    break;
                }
                catch (Exception ex) when (ex is NpgsqlException or DbException or DbUpdateException or TimeoutException or InvalidOperationException)
                {
                    // Keep the batch and retry: training goes on meanwhile, new items queue up behind it.
                    var delay = TimeSpan.FromSeconds(Math.Min(10, attempt));
                    ServiceMetrics.ProgressRetried();
                    log.LogWarning("Writing progress of job {JobId} failed (attempt {Attempt}), retrying in {Delay}: {Message}", jobId, attempt, delay, ex.Message);
                    NpgsqlConnection.ClearAllPools();
                    await Task.Delay(delay);
                }
            }
        }
    }

    private async Task WriteAsync(List<Item> batch)
    {
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
                JobId = jobId, Kind = e.Kind, Step = e.Step, Message = e.Message, CreatedAt = DateTimeOffset.UtcNow,
                Data = e.Data is null ? null : JsonSerializer.Serialize(e.Data, JsonOptions),
            });
        }
        foreach (var c in batch.OfType<Checkpoint>())
        {
            await db.Checkpoints.Where(x => x.JobId == jobId && x.Step == c.Step).ExecuteDeleteAsync();
            db.Checkpoints.Add(new CheckpointRecord
            {
                Id = Guid.CreateVersion7(), JobId = jobId, Step = c.Step, Phase = c.Phase, Location = c.Location,
                SizeBytes = c.SizeBytes, Sha256 = c.Sha256, CreatedAt = DateTimeOffset.UtcNow,
            });
        }
        await db.SaveChangesAsync();
        if (batch.OfType<Progress>().LastOrDefault() is { } progress)
        {
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Step, j => progress.Step > j.Step ? progress.Step : j.Step)
                .SetProperty(j => j.Phase, j => progress.Phase ?? j.Phase));
        }
        await tx.CommitAsync();
    }

    /// <summary>snake_case; NaN and infinities as strings, since jsonb accepts only standard JSON numbers.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes everything posted so far; waits through database outages.</summary>
    public async ValueTask DisposeAsync()
    {
        channel.Writer.TryComplete();
        await loop;
    }
}
