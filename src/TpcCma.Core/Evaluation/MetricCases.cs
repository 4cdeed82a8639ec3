using System.Text.Json;
using System.Text.Json.Nodes;

namespace TpcCma.Evaluation;

/// <summary>One metric case: an input for one metric kind, optionally the numbers it must reproduce.</summary>
/// <param name="Expected">Numbers to reproduce (nested objects allowed), or null to only compute.</param>
/// <param name="Tolerance">Absolute tolerance applied to every number in <paramref name="Expected"/>.</param>
public sealed record MetricCase(string Id, string Kind, MetricCaseInput Input, JsonObject? Expected, double Tolerance);

/// <summary>The outcome of a case: what was computed, and whether it matched (null when nothing was expected).</summary>
public sealed record MetricCaseResult(string Id, string Kind, JsonObject Result, bool? Pass);

/// <summary>
/// Reads and runs metric cases in the format of the reference file <c>refdata/metrics/cases.json</c>
/// (<c>{"cases": [{"id", "kind", "input", "expected"?, "tolerance"?, "params"?}]}</c>, kinds <c>ari</c>,
/// <c>cider_d</c>, <c>gaps</c>, <c>kmeans_ari</c>). Everything is validated before anything runs; a malformed
/// file raises <see cref="InvalidDataException"/> naming the case and the field.
/// </summary>
public static class MetricCases
{
    public static IReadOnlyList<string> Kinds { get; } = ["ari", "cider_d", "gaps", "kmeans_ari"];

    public static IReadOnlyList<MetricCase> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"cases file not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <param name="source">Names the file in error messages.</param>
    public static IReadOnlyList<MetricCase> Parse(string json, string source = "cases")
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException ex) { throw new InvalidDataException($"{source} is not valid JSON: {ex.Message}", ex); }
        if (root is not JsonObject rootObject || rootObject["cases"] is not JsonArray array)
            throw new InvalidDataException($"{source} must be a JSON object with a \"cases\" array");

        var cases = new List<MetricCase>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < array.Count; i++)
        {
            var where = $"{source}: cases[{i}]";
            if (array[i] is not JsonObject node) throw new InvalidDataException($"{where} must be an object");
            var id = JsonRead.String(node, "id", where);
            where = $"{source}: case '{id}'";
            if (!ids.Add(id)) throw new InvalidDataException($"{where}: the id is used twice");
            var kind = JsonRead.String(node, "kind", where);
            var input = JsonRead.Object(node, "input", where);
            var parameters = node["params"] as JsonObject;
            MetricCaseInput parsed = kind switch
            {
                "ari" => AriCaseInput.Parse(input, $"{where}: input"),
                "cider_d" => CiderCaseInput.Parse(input, parameters, $"{where}: input"),
                "gaps" => GapsCaseInput.Parse(input, $"{where}: input"),
                "kmeans_ari" => KMeansCaseInput.Parse(input, $"{where}: input"),
                _ => throw new InvalidDataException($"{where}: kind '{kind}' is not one of {string.Join(", ", Kinds)}"),
            };
            JsonObject? expected = null;
            var tolerance = 0.0;
            if (node["expected"] is not null)
            {
                expected = node["expected"] as JsonObject ?? throw new InvalidDataException($"{where}: \"expected\" must be an object");
                CheckNumbers(expected, $"{where}: expected");
                tolerance = JsonRead.Number(node, "tolerance", where);
                if (tolerance < 0) throw new InvalidDataException($"{where}: \"tolerance\" must not be negative, got {tolerance}");
            }
            cases.Add(new MetricCase(id, kind, parsed, expected, tolerance));
        }
        return cases;
    }

    public static MetricCaseResult Run(MetricCase metricCase)
    {
        var result = metricCase.Input.Run();   // inputs were validated by Parse
        bool? pass = metricCase.Expected is null ? null : Matches(metricCase.Expected, result, metricCase.Tolerance);
        return new MetricCaseResult(metricCase.Id, metricCase.Kind, result, pass);
    }

    /// <summary>True when every number in <paramref name="expected"/> has a counterpart within tolerance.</summary>
    public static bool Matches(JsonObject expected, JsonObject actual, double tolerance)
    {
        foreach (var (name, want) in expected)
        {
            var got = actual[name];
            var ok = want switch
            {
                JsonObject nested => got is JsonObject gotObject && Matches(nested, gotObject, tolerance),
                JsonValue value => got is JsonValue gotValue && gotValue.TryGetValue<double>(out var g)
                                   && Math.Abs(g - value.GetValue<double>()) <= tolerance,
                _ => false,
            };
            if (!ok) return false;
        }
        return true;
    }

    /// <summary>The results as the JSON array that <c>tpccma score</c> prints.</summary>
    public static string ToJson(IEnumerable<MetricCaseResult> results)
    {
        var array = new JsonArray();
        foreach (var r in results)
            array.Add(new JsonObject { ["id"] = r.Id, ["kind"] = r.Kind, ["result"] = r.Result.DeepClone(), ["pass"] = r.Pass });
        return array.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static void CheckNumbers(JsonObject expected, string where)
    {
        foreach (var (name, value) in expected)
        {
            if (value is JsonObject nested) CheckNumbers(nested, $"{where}.{name}");
            else if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
                throw new InvalidDataException($"{where}.{name} must be a number or an object of numbers");
        }
    }
}
