using System.Text.Json;

namespace TpcCma.Data;

/// <summary>
/// Reads COCO captions JSON: <c>images[{id, file_name}]</c> and <c>annotations[{image_id, caption}]</c>.
/// Images are looked up in the image folder (default: the JSON's folder). An optional <c>category</c> or
/// <c>label</c> on an image becomes its label.
/// </summary>
internal static class CocoCaptionsReader
{
    public static ManifestContent Read(string jsonPath, string root, string? imageFolder)
    {
        var content = new ManifestContent();
        var name = Path.GetRelativePath(root, jsonPath);
        var baseDir = Path.GetFullPath(imageFolder ?? Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(jsonPath)); }
        catch (JsonException ex)
        {
            content.Errors.Add(new DatasetError(name, DatasetErrorKind.MalformedEntry, $"not valid JSON ({ex.Message})"));
            return content;
        }
        using (doc)
        {
            var rootElement = doc.RootElement;
            if (rootElement.ValueKind != JsonValueKind.Object || !rootElement.TryGetProperty("images", out var images) || images.ValueKind != JsonValueKind.Array
                || !rootElement.TryGetProperty("annotations", out var annotations) || annotations.ValueKind != JsonValueKind.Array)
            {
                content.Errors.Add(new DatasetError(name, DatasetErrorKind.MalformedEntry, "COCO captions JSON needs arrays \"images\" and \"annotations\""));
                return content;
            }
            var byId = new Dictionary<string, ManifestEntry>(StringComparer.Ordinal);
            var index = 0;
            foreach (var image in images.EnumerateArray())
            {
                var location = $"{name}:images[{index++}]";
                var id = Text(image, "id");
                var file = Text(image, "file_name");
                if (id is null || file is null)
                {
                    content.Errors.Add(new DatasetError(location, DatasetErrorKind.MalformedEntry, "an image needs \"id\" and \"file_name\""));
                    continue;
                }
                var entry = new ManifestEntry(location, id, file, baseDir, [], Text(image, "label") ?? Text(image, "category"), Text(image, "split"));
                if (!byId.TryAdd(id, entry))
                {
                    content.Errors.Add(new DatasetError(location, DatasetErrorKind.DuplicateId, $"image id '{id}' also at {byId[id].Location}"));
                    continue;
                }
                content.Entries.Add(entry);
            }
            index = 0;
            foreach (var annotation in annotations.EnumerateArray())
            {
                var location = $"{name}:annotations[{index++}]";
                var imageId = Text(annotation, "image_id");
                var caption = annotation.ValueKind == JsonValueKind.Object && annotation.TryGetProperty("caption", out var c) && c.ValueKind == JsonValueKind.String
                    ? c.GetString()
                    : null;
                if (imageId is null || caption is null)
                    content.Errors.Add(new DatasetError(location, DatasetErrorKind.MalformedEntry, "an annotation needs \"image_id\" and a string \"caption\""));
                else if (!byId.TryGetValue(imageId, out var entry))
                    content.Errors.Add(new DatasetError(location, DatasetErrorKind.MalformedEntry, $"image_id '{imageId}' is not in \"images\""));
                else
                    entry.Captions.Add(caption);
            }
        }
        return content;
    }

    private static string? Text(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v)
            ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null }
            : null;
}
