using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Logging;
using Npgsql;
using TpcCma.Service.Jobs;
using TpcCma.Service.Persistence;

namespace TpcCma.Bench;

/// <summary>
/// <c>tpccma-bench ingest --connection CS [--jobs 8] [--metrics 20] [--rate 100] [--seconds 30] [--json FILE]</c>:
/// the worker's metric path under load. Each of <c>jobs</c> concurrent runs posts <c>metrics</c> values and a
/// progress update per step, <c>rate</c> steps a second, through its own <see cref="JobProgressWriter"/> (as a
/// training job does) into a scratch database on the server. Reports rows/s and the latency from posting a step
/// to its commit, then checks that every (job, name, step) row is there exactly once with its value. Exit code 1
/// when a write failed or a row is missing or wrong.
/// </summary>
internal static class IngestBenchmark
{
    public static async Task<int> RunAsync(ParseResult options, CancellationToken ct)
    {
        var server = options.GetValue<string>("--connection")!;
        var (jobs, metrics, rate, seconds) = (options.GetValue<int>("--jobs"), options.GetValue<int>("--metrics"), options.GetValue<double>("--rate"), options.GetValue<double>("--seconds"));
        if (jobs < 1 || metrics < 1 || rate <= 0 || seconds <= 0) throw new ArgumentException("--jobs, --metrics, --rate and --seconds must be positive");

        var database = "tpccma_ingest_" + Guid.NewGuid().ToString("N")[..12];
        var connection = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        await ExecuteAsync(server, $"CREATE DATABASE \"{database}\"");
        try
        {
            var dbs = new PooledDbContextFactory<TrainingDb>(new DbContextOptionsBuilder<TrainingDb>().UseNpgsql(connection).Options);
            await using (var db = await dbs.CreateDbContextAsync()) await db.Database.MigrateAsync();
            var ids = await CreateJobsAsync(dbs, jobs);
            Console.WriteLine($"# {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores: {jobs} jobs x {metrics} metrics x {rate} steps/s for {seconds} s");

            var failures = new FailureLog();
            var clock = Stopwatch.StartNew();
            var runs = await Task.WhenAll(ids.Select(id => RunJobAsync(dbs, id, metrics, rate, TimeSpan.FromSeconds(seconds), failures)));
            var elapsed = clock.Elapsed.TotalSeconds;

            var steps = runs.Sum(r => r.Steps);
            var latencies = runs.SelectMany(r => r.LatenciesMs).Order().ToArray();
            var rows = steps * (long)metrics;
            var wrong = await VerifyAsync(connection, runs, metrics);
            var result = new
            {
                jobs, metrics, rate, seconds, elapsed_s = elapsed, rows, rows_per_s = rows / elapsed,
                latency_ms = new { p50 = Percentile(latencies, 0.50), p99 = Percentile(latencies, 0.99), max = Percentile(latencies, 1.0) },
                write_errors = failures.Count, wrong_or_missing_rows = wrong,
            };
            Console.WriteLine($"rows {rows} in {elapsed:F1} s = {rows / elapsed:F0} rows/s; post-to-commit latency p50 {result.latency_ms.p50:F0} ms, "
                + $"p99 {result.latency_ms.p99:F0} ms, max {result.latency_ms.max:F0} ms; write errors {failures.Count}; wrong or missing rows {wrong}");
            if (options.GetValue<string>("--json") is { } json) await File.WriteAllTextAsync(json, JsonSerializer.Serialize(result));
            return failures.Count == 0 && wrong == 0 ? 0 : 1;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(server, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        }
    }

    private sealed record JobRun(Guid Id, long Steps, List<double> LatenciesMs);

    /// <summary>
    /// Posts steps on a fixed schedule (two items each: the metrics, then the progress), while a watcher turns the
    /// writer's count of written items into each step's post-to-commit latency.
    /// </summary>
    private static async Task<JobRun> RunJobAsync(IDbContextFactory<TrainingDb> dbs, Guid id, int metrics, double rate, TimeSpan duration, ILogger log)
    {
        var names = Enumerable.Range(0, metrics).Select(NameOf).ToArray();
        var posted = new List<long>();          // Stopwatch timestamp of each step's post
        var latencies = new List<double>();
        var writer = new JobProgressWriter(dbs, id, log, TimeProvider.System);
        var flushed = new TaskCompletionSource();
        var watcher = Task.Run(async () =>
        {
            var committed = 0;
            while (!flushed.Task.IsCompleted || committed < Count(posted))
            {
                var written = (int)(writer.Written / 2);
                lock (posted)
                    for (; committed < Math.Min(written, posted.Count); committed++)
                        latencies.Add(Stopwatch.GetElapsedTime(posted[committed]).TotalMilliseconds);
                await Task.Delay(2);
            }
        });
        var start = Stopwatch.GetTimestamp();
        long step = 0;
        while (Stopwatch.GetElapsedTime(start) < duration)
        {
            for (var due = (long)(Stopwatch.GetElapsedTime(start).TotalSeconds * rate); step < due; step++)
            {
                lock (posted) posted.Add(Stopwatch.GetTimestamp());
                var values = new Dictionary<string, double>(names.Select((name, i) => KeyValuePair.Create(name, ValueOf(step, i))));
                writer.Post(new JobProgressWriter.Metrics(step, values));
                writer.Post(new JobProgressWriter.Progress(step, TpcCma.Curriculum.TrainingPhase.Ramp));
            }
            await Task.Delay(1);
        }
        await writer.DisposeAsync();   // flushes what is still queued
        flushed.SetResult();
        await watcher;
        return new JobRun(id, step, latencies);
    }

    private static int Count(List<long> list) { lock (list) return list.Count; }

    private static string NameOf(int index) => $"m{index:D2}";

    /// <summary>Exact in a double, and recomputable in SQL from the row's own name and step.</summary>
    private static double ValueOf(long step, int index) => step * 100 + index;

    /// <summary>Rows of each job that are missing, extra or hold the wrong value.</summary>
    private static async Task<long> VerifyAsync(string connection, IReadOnlyList<JobRun> runs, int metrics)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        long wrong = 0;
        foreach (var run in runs)
        {
            await using var query = new NpgsqlCommand(
                """
                SELECT count(*),
                       count(*) FILTER (WHERE "Step" >= 0 AND "Step" < @steps AND substring("Name" from 2)::int < @metrics
                                        AND "Value" = "Step" * 100 + substring("Name" from 2)::int)
                FROM metrics WHERE "JobId" = @job
                """, db);
            query.Parameters.AddWithValue("job", run.Id);
            query.Parameters.AddWithValue("steps", run.Steps);
            query.Parameters.AddWithValue("metrics", metrics);
            await using var reader = await query.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (all, right) = (reader.GetInt64(0), reader.GetInt64(1));
            // The primary key (job, name, step) rules out duplicates; what is left is missing, extra or wrong rows.
            wrong += Math.Abs(run.Steps * metrics - right) + (all - right);
        }
        return wrong;
    }

    private static async Task<List<Guid>> CreateJobsAsync(IDbContextFactory<TrainingDb> dbs, int count)
    {
        await using var db = await dbs.CreateDbContextAsync();
        var jobs = Enumerable.Range(0, count)
            .Select(i => TrainingJob.Create(new JobDraft($"ingest-{i}", "finetune", "{}", "cpu", 1_000_000, i, null, null), null, DateTimeOffset.UtcNow))
            .ToList();
        db.Jobs.AddRange(jobs);
        await db.SaveChangesAsync();
        return jobs.Select(j => j.Id).ToList();
    }

    private static async Task ExecuteAsync(string connection, string sql)
    {
        await using var db = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection) { Database = "postgres", Pooling = false }.ConnectionString);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        await command.ExecuteNonQueryAsync();
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Length - 1, p * sorted.Length)];

    /// <summary>The writer reports a failed batch as a warning before it retries: each one counts as an error.</summary>
    private sealed class FailureLog : ILogger
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel level) => level >= LogLevel.Warning;

        public void Log<TState>(LogLevel level, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(level)) return;
            Interlocked.Increment(ref count);
            Console.Error.WriteLine($"{level}: {formatter(state, exception)}");
        }
    }
}
