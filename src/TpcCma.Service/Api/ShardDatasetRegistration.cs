using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using TpcCma.Data;
using TpcCma.Data.Shards;
using TpcCma.Service.Jobs;
using TpcCma.Service.Operations;

namespace TpcCma.Service.Api;

/// <summary>
/// Registers a WebDataset shard set, checked inside the request but bounded whatever its size: the list parses, every
/// local shard exists under the data root, and a sample is read (up to <see cref="ProbeShards"/> shards spread over the
/// list, their first <see cref="ProbeSamplesPerShard"/> samples, images decoded). Every problem is named by shard and
/// member; a refused set stores nothing. Reading every image is the full validation pass, not this.
/// </summary>
public static class ShardDatasetRegistration
{
    public const int ProbeShards = 8;
    public const int ProbeSamplesPerShard = 32;

    /// <summary>Missing local shards named one by one, up to this many; the rest are counted.</summary>
    private const int MaxNamedMissing = 20;

    /// <summary>The request's <c>shards</c>: one list string (parts separated by <c>::</c> or spaces) or an array of patterns.</summary>
    public static string? ListOf(JsonElement shards) => shards.ValueKind switch
    {
        JsonValueKind.String => shards.GetString(),
        JsonValueKind.Array when shards.EnumerateArray().All(p => p.ValueKind == JsonValueKind.String) =>
            string.Join("::", shards.EnumerateArray().Select(p => p.GetString())),
        _ => null,
    };

    /// <summary>A shard list given in the request: local patterns relative to the data root, or <c>s3://</c> URLs.</summary>
    public static async Task<Results<Created<DatasetsApi.DatasetResponse>, ValidationProblem>> RegisterListAsync(
        string list, string? name, ValidationPolicy policy, ClaimsPrincipal user, TrainingDb db, string dataRoot, DatasetShardSources sources,
        OperationStarter operations, TimeProvider time, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        IReadOnlyList<ShardRef> shards;
        try
        {
            foreach (var (_, pattern) in ShardList.Parts(list)) CheckPattern(pattern, dataRoot, sources, errors);
            if (errors.Count > 0) return Refuse(errors);
            shards = ShardList.Parse(list, dataRoot);
        }
        catch (ArgumentException ex) { return Refuse(new() { ["shards"] = [ex.Message] }); }
        CheckLocalShards(shards, dataRoot, errors);
        if (errors.Count > 0) return Refuse(errors);
        var stored = string.Join("::", ShardList.Parts(list).Select(p => p.Split is null ? p.Pattern : $"{p.Split}={p.Pattern}"));
        var set = new ShardSet(shards, sources: sources.Sources);
        return await ProbeAndStoreAsync(set, name ?? DefaultName(shards), JobRuns.ShardDatasetSource, stored, policy, user, db, operations, time, ct);
    }

    /// <summary>A <c>dataset.json</c> naming shards (or its folder), given as <c>path</c>: stored by its path like other folders.</summary>
    public static async Task<Results<Created<DatasetsApi.DatasetResponse>, ValidationProblem>> RegisterDescriptorAsync(
        string location, string name, ValidationPolicy policy, ClaimsPrincipal user, TrainingDb db, string dataRoot, DatasetShardSources sources,
        OperationStarter operations, TimeProvider time, CancellationToken ct)
    {
        ShardSet set;
        try { set = ShardSet.Open(location, sources.Sources); }
        catch (ArgumentException ex) { return Refuse(new() { ["path"] = [ex.Message] }); }
        var errors = new Dictionary<string, string[]>();
        foreach (var remote in set.Shards.Where(s => s.Location.Contains("://", StringComparison.Ordinal)).Take(1))
            CheckPattern(remote.Location, dataRoot, sources, errors);
        CheckLocalShards(set.Shards, dataRoot, errors);
        if (errors.Count > 0) return Refuse(errors);
        return await ProbeAndStoreAsync(set, name, "path", location, policy, user, db, operations, time, ct);
    }

    /// <summary>Checks one pattern of the list before it is expanded into shards.</summary>
    private static void CheckPattern(string pattern, string dataRoot, DatasetShardSources sources, Dictionary<string, string[]> errors)
    {
        void Add(string message) => errors["shards"] = [.. errors.GetValueOrDefault("shards") ?? Array.Empty<string>(), message];
        if (pattern.StartsWith("s3://", StringComparison.Ordinal))
        {
            if (!sources.ReadsS3)
                Add($"'{pattern}': this service has no S3 settings to read s3:// shards with (Storage:Kind s3, or Storage:S3:ServiceUrl)");
            return;
        }
        if (pattern.Contains("://", StringComparison.Ordinal)) { Add($"'{pattern}': only local paths under the data root and s3:// URLs are read"); return; }
        if (Path.IsPathRooted(pattern)) { Add($"'{pattern}' must be relative to the data root"); return; }
        var expanded = ShardList.Expand(pattern);
        if (expanded.Count == 0) return;   // Parse names it ("expands to no shards")
        if (expanded.Any(e => !IsUnder(dataRoot, Path.GetFullPath(e, dataRoot)))) { Add($"'{pattern}' leaves the data root"); return; }
        if (!expanded.Any(e => File.Exists(Path.GetFullPath(e, dataRoot)))) Add($"the pattern '{pattern}' matches nothing under the data root");
    }

    /// <summary>Every local shard must exist and stay under the data root, also through symbolic links (a stat each: cheap next to reading).</summary>
    private static void CheckLocalShards(IReadOnlyList<ShardRef> shards, string dataRoot, Dictionary<string, string[]> errors)
    {
        var missing = 0;
        foreach (var shard in shards.Where(s => !s.Location.Contains("://", StringComparison.Ordinal)))
        {
            var relative = Path.GetRelativePath(dataRoot, shard.Location);
            try
            {
                if (!File.Exists(shard.Location)) throw new FileNotFoundException($"'{relative}' does not exist under the data root");
                DataRootPaths.Resolve(dataRoot, relative);
            }
            catch (FileNotFoundException ex)
            {
                if (++missing <= MaxNamedMissing) errors[shard.Name] = [$"shard not found: {ex.Message}"];
            }
            catch (ArgumentException ex) { errors[shard.Name] = [ex.Message]; }
        }
        if (missing > MaxNamedMissing) errors["shards"] = [$"{missing} shards do not exist under the data root (the first {MaxNamedMissing} are named)"];
    }

    private static async Task<Results<Created<DatasetsApi.DatasetResponse>, ValidationProblem>> ProbeAndStoreAsync(
        ShardSet set, string name, string source, string location, ValidationPolicy policy, ClaimsPrincipal user, TrainingDb db,
        OperationStarter operations, TimeProvider time, CancellationToken ct)
    {
        var probe = await Task.Run(() => ShardScanner.Probe(set, ProbeShards, ProbeSamplesPerShard, ct, ImageCheck.Decode), ct);
        // A shard that cannot be opened at all (missing, not a tar, S3 unreachable) refuses the set under either policy:
        // skipping would train on less than the user named. A bad sample refuses it under `fail` only.
        var refusing = probe.Errors.Where(e => policy == ValidationPolicy.Fail || !e.Location.Contains('!')).ToList();
        if (refusing.Count > 0)
            return TypedResults.ValidationProblem(DatasetsApi.ErrorsByLocation(refusing), title: "The dataset is invalid");
        if (probe.Usable == 0)
            return Refuse(new() { ["shards"] = [$"the {probe.Shards.Count} shard(s) read hold no usable sample"] });

        // Every shard read to its end (fewer samples than the probe's bound): the count is exact, else only the full pass knows it.
        var known = probe.Shards.Count == set.Shards.Count && probe.Shards.All(s => s.Samples < ProbeSamplesPerShard);
        var classes = set.DeclaredClassNames ?? probe.Labels;
        var report = new
        {
            format = "webdataset",
            shards = set.Shards.Count,
            samples_known = known,
            probe = new
            {
                shards = probe.Shards.Count, samples = probe.Samples, usable = probe.Usable, splits = probe.Splits,
                errors_by_kind = probe.ErrorsByKind.ToDictionary(k => JsonNamingPolicy.SnakeCaseLower.ConvertName(k.Key.ToString()), k => k.Value),
                first_errors = probe.Errors.Take(50).Select(e => e.ToString()).ToList(),
            },
            policy = policy.ToString().ToLowerInvariant(),
            classes, prompt_templates = set.PromptTemplates,
        };
        var id = Guid.CreateVersion7();
        var record = new DatasetRecord
        {
            Id = id, OwnerKeyId = user.KeyId(), Name = name, Source = source, Location = location,
            SampleCount = known ? probe.Usable : 0, ClassCount = classes.Count,
            Report = JsonSerializer.Serialize(report), CreatedAt = time.GetUtcNow(),
        };
        db.Datasets.Add(record);
        await db.SaveChangesAsync(ct);
        // The full pass (every image decoded) runs on a worker; the set is usable meanwhile, as jobs skip what the probe missed.
        var validation = await operations.StartAsync(db, OperationKinds.DatasetValidation, user.KeyId(), DatasetValidationHandler.Input(id),
            DatasetValidationHandler.Subject(id), CancellationToken.None);
        record.Report = ValidationStarted(record.Report, validation.Id);
        await db.SaveChangesAsync(CancellationToken.None);
        return TypedResults.Created($"/v1/datasets/{id}", DatasetsApi.DatasetResponse.From(record));
    }

    /// <summary>The report with <c>validation.operation</c> set: where the full pass's progress and problems are.</summary>
    internal static string ValidationStarted(string report, Guid operationId)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(report)!.AsObject();
        node["validation"] = new System.Text.Json.Nodes.JsonObject { ["operation"] = operationId.ToString(), ["state"] = "started" };
        return node.ToJsonString();
    }

    private static string DefaultName(IReadOnlyList<ShardRef> shards)
    {
        var first = shards[0].Location.TrimEnd('/');
        var folder = first[..Math.Max(0, first.LastIndexOf('/'))];
        return folder.Length > 0 ? folder[(folder.LastIndexOf('/') + 1)..] : Path.GetFileNameWithoutExtension(first);
    }

    private static bool IsUnder(string root, string path)
    {
        var r = Path.TrimEndingDirectorySeparator(root);
        return path.StartsWith(r + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static ValidationProblem Refuse(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The dataset is invalid");
}
