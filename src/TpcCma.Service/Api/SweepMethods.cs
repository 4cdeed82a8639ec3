using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TpcCma.Losses;
using TpcCma.Service.Persistence;
using TpcCma.Training;

namespace TpcCma.Service.Api;

/// <summary>One entry of a sweep's <c>methods</c>: a name for the report and the spec fields it overrides.</summary>
/// <example>{"name": "tpccma-pairwise", "spec": {"cma": "pairwise"}}</example>
public sealed record SweepMethodRequest
{
    public string? Name { get; init; }
    public JsonObject? Spec { get; init; }
}

/// <summary>A validated method of a sweep: its name, the spec its jobs start from, and whether alpha_target means anything to it.</summary>
public sealed record SweepMethod(string Name, TrainingSpec Spec)
{
    /// <summary>The peer methods (m2mix, clip_refine, align_clip) ignore the curriculum's alpha: one job per seed, not one per alpha_target.</summary>
    public bool AlphaApplies => Spec.Method == AlignMethod.TpcCma;
}

/// <summary>
/// The <c>methods</c> of <c>POST /v1/sweeps</c>: validation with named fields, and how a job's name records its method.
/// Jobs of a sweep with methods are named <c>SWEEP:METHOD-alphaA-seedS</c>; the ':' marks the method, so a sweep
/// without methods (<c>SWEEP-alphaA...</c>) reads back as before, with no method.
/// </summary>
public static partial class SweepMethods
{
    public const int MaxMethods = 10;

    [GeneratedRegex("^[a-z0-9][a-z0-9_+.-]{0,47}$")]
    private static partial Regex NamePattern();

    /// <summary>Each entry's spec is the sweep's spec with the entry's fields laid over it, bound like a job's; errors name <c>methods[i].…</c>.</summary>
    public static (IReadOnlyList<SweepMethod>? Methods, Dictionary<string, string[]> Errors) Bind(
        IReadOnlyList<SweepMethodRequest?> entries, CreateJobRequest job, string defaultQueue)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (entries.Count is 0 or > MaxMethods) return (null, new() { ["methods"] = [$"give 1 to {MaxMethods} methods"] });
        var methods = new List<SweepMethod>();
        for (var i = 0; i < entries.Count; i++)
        {
            var at = $"methods[{i}]";
            if (entries[i] is not { } entry) { errors[at] = ["must be an object with name and spec"]; continue; }
            if (entry.Name is null || !NamePattern().IsMatch(entry.Name))
                errors[$"{at}.name"] = ["must be 1 to 48 characters of a-z, 0-9, '_', '+', '.', '-', starting with a letter or digit"];
            else if (methods.Any(m => m.Name == entry.Name) || entries.Take(i).Any(e => e?.Name == entry.Name))
                errors[$"{at}.name"] = [$"'{entry.Name}' is given twice; names must be distinct"];
            var overrides = entry.Spec ?? new JsonObject();
            foreach (var perJob in new[] { "alpha_target", "seed" })
                if (overrides.ContainsKey(perJob)) errors[$"{at}.spec.{perJob}"] = ["is set per job by the sweep; leave it out"];
            var merged = (job.Spec?.DeepClone() as JsonObject) ?? new JsonObject();
            foreach (var (key, value) in overrides) merged[key] = value?.DeepClone();
            var body = JsonSerializer.Serialize(job with { Spec = merged }, ApiJson.Strict);
            var (bound, bindErrors) = JobRequestBinder.Bind(body, defaultQueue);
            foreach (var (field, messages) in bindErrors)
                if (field.StartsWith("spec", StringComparison.Ordinal)) errors[$"{at}.{field}"] = messages;
            if (bound is not null && entry.Name is not null) methods.Add(new SweepMethod(entry.Name, bound.Spec));
        }
        return errors.Count > 0 ? (null, errors) : (methods, errors);
    }

    /// <summary>The job name for one (method, alpha, seed) of a sweep; alpha and seed appear where they vary.</summary>
    public static string JobName(string sweep, SweepMethod method, double alpha, long seed, bool seeded)
    {
        var name = $"{sweep}:{method.Name}";
        if (method.AlphaApplies) name += "-alpha" + alpha.ToString(CultureInfo.InvariantCulture);
        return seeded ? name + "-seed" + seed.ToString(CultureInfo.InvariantCulture) : name;
    }

    /// <summary>The method a job of <paramref name="sweep"/> was created for, and whether alpha applied; null for a sweep without methods.</summary>
    public static (string? Method, bool AlphaApplies) Of(Sweep sweep, TrainingJob job, TrainingSpec spec)
    {
        var prefix = sweep.Name + ":";
        if (!job.Name.StartsWith(prefix, StringComparison.Ordinal)) return (null, true);
        var rest = job.Name[prefix.Length..];
        var seedSuffix = "-seed" + job.Seed.ToString(CultureInfo.InvariantCulture);
        if (rest.EndsWith(seedSuffix, StringComparison.Ordinal)) rest = rest[..^seedSuffix.Length];
        var alphaApplies = spec.Method == AlignMethod.TpcCma;
        var alphaSuffix = "-alpha" + spec.AlphaTarget.ToString(CultureInfo.InvariantCulture);
        if (alphaApplies && rest.EndsWith(alphaSuffix, StringComparison.Ordinal)) rest = rest[..^alphaSuffix.Length];
        return (rest, alphaApplies);
    }
}
