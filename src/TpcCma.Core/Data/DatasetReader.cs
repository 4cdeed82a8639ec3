using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TpcCma.Data;

/// <summary>
/// Finds a dataset's manifest (folder, manifest file or archive), reads it with the matching reader and the optional
/// <c>dataset.json</c> beside it (<c>{"classes": [...], "templates": [...]}</c>), and validates the result.
/// </summary>
internal static class DatasetReader
{
    public const string SidecarName = "dataset.json";

    public static ImageTextDataset Open(string path, DatasetOptions options)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full) && ArchiveExtractor.IsArchive(full))
        {
            var destination = ExtractionFolder(full, options);
            var errors = new List<DatasetError>();
            ArchiveExtractor.Extract(full, destination, options.ArchiveLimits ?? ArchiveLimits.Default, errors);
            // Archives often wrap everything in one top folder.
            var root = FindManifest(destination) is null && Directory.GetFileSystemEntries(destination) is [var only] && Directory.Exists(only) ? only : destination;
            return Read(root, FindManifest(root) ?? throw NoManifest(path), options, errors, $"{Path.GetFileName(full)}!");
        }
        if (Directory.Exists(full)) return Read(full, FindManifest(full) ?? throw NoManifest(path), options, [], "");
        if (File.Exists(full)) return Read(Path.GetDirectoryName(full)!, full, options, [], "");
        throw new FileNotFoundException($"dataset not found: {path}", path);
    }

    private static ImageTextDataset Read(string root, string manifest, DatasetOptions options, List<DatasetError> archiveErrors, string locationPrefix)
    {
        var content = Path.GetExtension(manifest).ToLowerInvariant() switch
        {
            ".jsonl" => JsonlManifestReader.Read(manifest, root),
            ".csv" => CsvManifestReader.Read(manifest, root),
            ".json" => CocoCaptionsReader.Read(manifest, root, options.ImageFolder),
            var ext => throw new ArgumentException($"{manifest}: unknown manifest type '{ext}' (expected .jsonl, .csv or COCO captions .json)"),
        };
        ReadSidecar(Path.Combine(root, SidecarName), content);
        if (locationPrefix.Length > 0)
        {
            // Inside an archive, name the archive too: data.tar!manifest.jsonl:3.
            var prefixed = new ManifestContent { ClassNames = content.ClassNames, PromptTemplates = content.PromptTemplates };
            prefixed.Entries.AddRange(content.Entries.Select(e => e with { Location = locationPrefix + e.Location }));
            prefixed.Errors.AddRange(content.Errors.Select(e => e with { Location = locationPrefix + e.Location }));
            content = prefixed;
        }
        return DatasetValidator.Build(root, content, options, archiveErrors);
    }

    private static string? FindManifest(string folder)
    {
        var jsonl = Path.Combine(folder, "manifest.jsonl");
        if (File.Exists(jsonl)) return jsonl;
        var csv = Directory.GetFiles(folder, "*.csv").Order(StringComparer.Ordinal).ToList();
        if (csv.Count == 1) return csv[0];
        var json = Directory.GetFiles(folder, "*.json").Where(f => Path.GetFileName(f) != SidecarName).Order(StringComparer.Ordinal).ToList();
        return json.Count == 1 ? json[0] : null;
    }

    private static ArgumentException NoManifest(string path) =>
        new($"{path}: no manifest found (manifest.jsonl, one .csv, or one COCO captions .json)");

    private static void ReadSidecar(string path, ManifestContent content)
    {
        if (!File.Exists(path)) return;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.TryGetProperty("classes", out var classes))
                content.ClassNames = [.. classes.EnumerateArray().Select(c => c.GetString() ?? throw new FormatException("classes must be strings"))];
            if (doc.RootElement.TryGetProperty("templates", out var templates))
                content.PromptTemplates = [.. templates.EnumerateArray().Select(c => c.GetString() ?? throw new FormatException("templates must be strings"))];
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>A folder per archive version (path, size, time), so opening the same archive twice reuses nothing stale.</summary>
    private static string ExtractionFolder(string archive, DatasetOptions options)
    {
        var info = new FileInfo(archive);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{archive}|{info.Length}|{info.LastWriteTimeUtc.Ticks}")))[..16];
        return Path.Combine(options.ExtractionRoot ?? Path.Combine(Path.GetTempPath(), "tpccma-datasets"), key);
    }
}
