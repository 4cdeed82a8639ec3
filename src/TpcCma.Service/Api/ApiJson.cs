using System.Text.Json;
using System.Text.Json.Serialization;

namespace TpcCma.Service.Api;

/// <summary>The API's JSON: snake_case names and enum values, like the job spec and the fine-tuning APIs people know.</summary>
public static class ApiJson
{
    public static void Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null;
        // An R^2 over metrics that did not vary is NaN: written as the string "NaN" rather than failing the response.
        o.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }

    /// <summary>For request bodies read by hand: strict, so a misspelt field is an error rather than a silent default.</summary>
    public static JsonSerializerOptions Strict { get; } = CreateStrict();

    private static JsonSerializerOptions CreateStrict()
    {
        var o = new JsonSerializerOptions { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };
        Configure(o);
        return o;
    }

    /// <summary>"$.spec.alpha_target" -> "spec.alpha_target": the field name a client recognises.</summary>
    public static string FieldOf(string? jsonPath, string fallback)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$") return fallback;
        return jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');
    }
}
