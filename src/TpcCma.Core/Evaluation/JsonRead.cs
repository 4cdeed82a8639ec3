using System.Text.Json;
using System.Text.Json.Nodes;

namespace TpcCma.Evaluation;

/// <summary>Typed reads of JSON fields whose errors name the field (for <see cref="MetricCases"/>).</summary>
internal static class JsonRead
{
    public static JsonNode Field(JsonObject node, string name, string where) =>
        node[name] ?? throw new InvalidDataException($"{where}: missing field \"{name}\"");

    public static string String(JsonObject node, string name, string where) => AsString(Field(node, name, where), $"{where}.{name}");

    public static string AsString(JsonNode? node, string where) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
            : throw new InvalidDataException($"{where} must be a string");

    public static JsonObject Object(JsonObject node, string name, string where) =>
        Field(node, name, where) as JsonObject ?? throw new InvalidDataException($"{where}.{name} must be an object");

    public static double Number(JsonObject node, string name, string where) => AsNumber(Field(node, name, where), $"{where}.{name}");

    private static double AsNumber(JsonNode? node, string where) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && double.IsFinite(v.GetValue<double>())
            ? v.GetValue<double>()
            : throw new InvalidDataException($"{where} must be a finite number");

    public static long[] Integers(JsonObject node, string name, string where)
    {
        var array = Field(node, name, where) as JsonArray ?? throw new InvalidDataException($"{where}.{name} must be an array of integers");
        var values = new long[array.Count];
        for (var i = 0; i < array.Count; i++)
        {
            var value = AsNumber(array[i], $"{where}.{name}[{i}]");
            if (value != Math.Floor(value) || Math.Abs(value) > 1e15) throw new InvalidDataException($"{where}.{name}[{i}] must be an integer, got {value}");
            values[i] = (long)value;
        }
        return values;
    }

    /// <summary>A rectangular array of number arrays, flattened row-major.</summary>
    public static (double[] Values, int Rows, int Columns) Matrix(JsonObject node, string name, string where)
    {
        var rows = Field(node, name, where) as JsonArray ?? throw new InvalidDataException($"{where}.{name} must be an array of rows");
        if (rows.Count == 0) throw new InvalidDataException($"{where}.{name} has no rows");
        var columns = (rows[0] as JsonArray)?.Count ?? 0;
        if (columns == 0) throw new InvalidDataException($"{where}.{name}[0] must be a non-empty array of numbers");
        var values = new double[rows.Count * columns];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i] as JsonArray ?? throw new InvalidDataException($"{where}.{name}[{i}] must be an array of numbers");
            if (row.Count != columns) throw new InvalidDataException($"{where}.{name}[{i}] has {row.Count} values, row 0 has {columns}");
            for (var j = 0; j < columns; j++) values[i * columns + j] = AsNumber(row[j], $"{where}.{name}[{i}][{j}]");
        }
        return (values, rows.Count, columns);
    }
}
