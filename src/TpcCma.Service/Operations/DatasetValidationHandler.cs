using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TpcCma.Data;
using TpcCma.Data.Shards;
using TpcCma.Service.Hosting;
using TpcCma.Service.Jobs;
using TpcCma.Service.Persistence;
using TpcCma.Service.Storage;

namespace TpcCma.Service.Operations;

/// <summary>
/// <c>dataset-validation</c>: the full pass over a shard data set on a worker. Every shard is read and every image
/// decoded; each problem is reported with its location (<c>00012.tar!KEY.jpg</c>) as soon as its shard is done, counted
/// by kind, with progress by shards. At the end the data set's record gets its exact sample count and the pass's
/// summary. Safe to run again: it only reads the shards and overwrites the summary.
/// </summary>
public sealed class DatasetValidationHandler(IDbContextFactory<TrainingDb> dbs, ServiceOptions options, DatasetSettings settings, DatasetShardSources shardSources)
    : IOperationHandler
{
    public string Kind => OperationKinds.DatasetValidation;

    /// <summary>The operation's arguments: the data set to validate.</summary>
    public static JsonObject Input(Guid datasetId) => new() { ["dataset"] = datasetId.ToString() };

    /// <summary>One validation at a time per data set: a second request joins the one in flight.</summary>
    public static string Subject(Guid datasetId) => $"dataset-validation:{datasetId}";

    public async Task<JsonObject> RunAsync(OperationContext context, CancellationToken ct)
    {
        var id = Guid.TryParse(context.RequiredInput("dataset"), out var parsed) ? parsed : throw new OperationFailedException("the 'dataset' argument is not an id");
        DatasetRecord dataset;
        await using (var db = await dbs.CreateDbContextAsync(ct))
            dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct) ?? throw new OperationFailedException($"dataset {id} no longer exists");
        ShardSet set;
        try { set = ShardSet.Open(JobRuns.DatasetLocation(dataset, options), shardSources.Sources); }
        catch (ArgumentException ex) { throw new OperationFailedException($"dataset {id} cannot be opened as shards: {ex.Message}"); }

        context.Report(0, $"0/{set.Shards.Count} shards");
        var progress = new Progress(p => context.Report((double)p.ShardsDone / p.ShardsTotal,
            $"{p.ShardsDone}/{p.ShardsTotal} shards, {p.Samples} samples, {p.Errors} problem(s)"));
        // Problems go to the operation as each shard is done; the report itself keeps none (the operation keeps the first ones).
        var report = await Task.Factory.StartNew(() => ShardScanner.Validate(set, settings.ValidationWorkers, progress, ct, maxReportedErrors: 0,
                onProblems: found => { foreach (var e in found) context.Problem(KindName(e.Kind), e.Location, e.Message); }),
            ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var summary = new JsonObject
        {
            ["operation"] = context.OperationId.ToString(), ["state"] = "succeeded", ["shards"] = set.Shards.Count,
            ["samples"] = report.Samples, ["usable"] = report.Usable, ["problems"] = report.ErrorCount,
            ["problems_by_kind"] = new JsonObject([.. report.ErrorsByKind.Select(k => KeyValuePair.Create(KindName(k.Key), (JsonNode?)k.Value))]),
        };
        await RecordAsync(id, report.Usable, (set.DeclaredClassNames ?? report.Labels).Count, summary, ct);
        return new JsonObject { ["dataset"] = id.ToString(), ["shards"] = set.Shards.Count, ["samples"] = report.Samples, ["usable"] = report.Usable, ["problems"] = report.ErrorCount };
    }

    /// <summary>The exact counts (samples, classes) replace the probe's; the summary sits in the record's report under <c>validation</c>.</summary>
    private async Task RecordAsync(Guid id, int usable, int classes, JsonObject summary, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var record = await db.Datasets.FirstOrDefaultAsync(d => d.Id == id, ct);
        if (record is null) return;   // deleted meanwhile: the operation's own result still tells
        var report = JsonNode.Parse(record.Report)!.AsObject();
        report["samples_known"] = true;
        report["validation"] = summary;
        record.Report = report.ToJsonString();
        record.SampleCount = usable;
        record.ClassCount = classes;
        await db.SaveChangesAsync(ct);
    }

    private static string KindName(DatasetErrorKind kind) => JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString());

    private sealed class Progress(Action<ShardScanProgress> report) : IProgress<ShardScanProgress>
    {
        public void Report(ShardScanProgress value) => report(value);
    }
}
