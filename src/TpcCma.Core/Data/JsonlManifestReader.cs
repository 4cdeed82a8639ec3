using System.Text.Json;

namespace TpcCma.Data;

/// <summary>
/// Reads <c>manifest.jsonl</c>: one JSON object per line, <c>{"image": "rel/path.png", "captions": ["..."],
/// "label": "...", "split": "...", "id": "..."}</c>; <c>caption</c> (one string) is accepted for <c>captions</c>,
/// and the id defaults to the image path. Blank lines are ignored.
/// </summary>
internal static class JsonlManifestReader
{
    public static ManifestContent Read(string manifestPath, string root)
    {
        var content = new ManifestContent();
        var name = Path.GetRelativePath(root, manifestPath);
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(manifestPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var location = $"{name}:{lineNumber}";
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException("the line is not a JSON object");
                var entry = ReadEntry(doc.RootElement, location, baseDir);
                content.Entries.Add(entry);
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
            {
                content.Errors.Add(new DatasetError(location, DatasetErrorKind.MalformedEntry, ex.Message));
            }
        }
        return content;
    }

    private static ManifestEntry ReadEntry(JsonElement obj, string location, string baseDir)
    {
        var image = OptionalString(obj, "image") ?? throw new FormatException("missing \"image\"");
        var captions = new List<string>();
        if (obj.TryGetProperty("captions", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array) throw new FormatException("\"captions\" must be an array of strings");
            foreach (var c in list.EnumerateArray())
                captions.Add(c.ValueKind == JsonValueKind.String ? c.GetString()! : throw new FormatException("\"captions\" must be an array of strings"));
        }
        if (OptionalString(obj, "caption") is { } single) captions.Add(single);
        return new ManifestEntry(location, OptionalString(obj, "id") ?? image, image, baseDir, captions,
            OptionalString(obj, "label"), OptionalString(obj, "split"));
    }

    private static string? OptionalString(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            // Numeric labels and ids are common; keep their JSON text.
            JsonValueKind.Number => value.GetRawText(),
            _ => throw new FormatException($"\"{name}\" must be a string"),
        };
    }
}
