using System.Text.Json;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>Reads the service's JSON console log (one object per line, scopes included).</summary>
public static class StructuredLog
{
    public static IReadOnlyList<JsonObject> Lines(string output) =>
        [.. output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('{')).Select(TryParse).OfType<JsonObject>()];

    /// <summary>Log lines written inside a scope that has <paramref name="key"/> = <paramref name="value"/>.</summary>
    public static IReadOnlyList<JsonObject> LinesWithScope(string output, string key, string value) =>
        [.. Lines(output).Where(l => l["Scopes"] is JsonArray scopes && scopes.Any(s => s is JsonObject o && o[key]?.ToString() == value))];

    private static JsonObject? TryParse(string line)
    {
        try { return JsonNode.Parse(line) as JsonObject; }
        catch (JsonException) { return null; }
    }
}
