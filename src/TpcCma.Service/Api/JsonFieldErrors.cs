using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace TpcCma.Service.Api;

/// <summary>
/// Checks a JSON object field by field against the type it will be read as, so that every field of the wrong type is
/// reported at once, in words a client understands ("must be a number, not the string \"7\""), instead of the
/// serializer's first error in CLR terms (<c>System.Nullable`1[System.Guid]</c>).
/// </summary>
public static class JsonFieldErrors
{
    /// <summary>Adds an error for each field of <paramref name="json"/> that is unknown or not of its type; nested objects are checked field by field.</summary>
    public static void Collect(JsonObject json, Type type, JsonSerializerOptions options, string prefix, IDictionary<string, string[]> errors)
    {
        // Options that have not serialized anything yet have no resolver: give them the default one (and freeze them).
        if (!options.IsReadOnly) options.MakeReadOnly(populateMissingResolver: true);
        var info = options.GetTypeInfo(type);
        var properties = info.Properties.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var (name, node) in json)
        {
            var field = prefix + name;
            if (!properties.TryGetValue(name, out var property))
            {
                if ((info.UnmappedMemberHandling ?? options.UnmappedMemberHandling) == System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)
                    errors[field] = [$"is not a field here; the fields are {string.Join(", ", properties.Keys.Order(StringComparer.Ordinal))}"];
                continue;
            }
            if (node is JsonObject nested && IsObjectType(property.PropertyType, options))
            {
                Collect(nested, Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType, options, field + ".", errors);
                continue;
            }
            try
            {
                node.Deserialize(property.PropertyType, options);
            }
            catch (JsonException)
            {
                errors[field] = [$"must be {Expected(property.PropertyType)}, not {Describe(node)}"];
            }
            catch (InvalidOperationException)
            {
                errors[field] = [$"must be {Expected(property.PropertyType)}, not {Describe(node)}"];
            }
        }
    }

    /// <summary>The type a field expects, in plain words.</summary>
    public static string Expected(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner) return Expected(inner);
        if (type == typeof(string)) return "a string";
        if (type == typeof(Guid)) return "an id (a UUID string such as \"0190d7a4-5c6e-7d1f-8a2b-3c4d5e6f7a8b\")";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(int) || type == typeof(long)) return "a whole number";
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal)) return "a number";
        if (type.IsEnum)
            return "one of " + string.Join(", ", Enum.GetNames(type).Select(n => $"\"{JsonNamingPolicy.SnakeCaseLower.ConvertName(n)}\""));
        if (type == typeof(JsonObject)) return "an object";
        if (type.IsArray || (type.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(type)))
        {
            var element = type.IsArray ? type.GetElementType()! : type.GetGenericArguments()[0];
            return $"a list of {Plural(Expected(element))}";
        }
        return "an object";
    }

    /// <summary>What the client sent, briefly: <c>the string "nope"</c>, <c>the number 7</c>, <c>a list</c>.</summary>
    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => $"the string {Quote(value.GetValue<string>())}",
            JsonValueKind.Number => "the number " + value.ToJsonString(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => value.ToJsonString(),
        },
        _ => node.ToJsonString(),
    };

    private static bool IsObjectType(Type type, JsonSerializerOptions options) =>
        options.GetTypeInfo(Nullable.GetUnderlyingType(type) ?? type).Kind == JsonTypeInfoKind.Object && type != typeof(JsonObject);

    private static string Quote(string text) =>
        JsonSerializer.Serialize(text.Length > 40 ? text[..40] + "..." : text);

    private static string Plural(string expected) => expected switch
    {
        "a string" => "strings",
        "a number" => "numbers",
        "a whole number" => "whole numbers",
        "true or false" => "true/false values",
        _ => expected.StartsWith("a ", StringComparison.Ordinal) ? expected[2..] + "s" : expected,
    };

    /// <summary>A copy of <paramref name="json"/> without the fields that have errors, so the rest can be read and validated.</summary>
    public static JsonObject Without(JsonObject json, IReadOnlyDictionary<string, string[]> errors, string prefix)
    {
        var copy = json.DeepClone().AsObject();
        foreach (var field in errors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var path = field[prefix.Length..].Split('.');
            var parent = copy;
            foreach (var step in path[..^1]) parent = parent[step] as JsonObject ?? new JsonObject();
            parent.Remove(path[^1]);
        }
        return copy;
    }
}
