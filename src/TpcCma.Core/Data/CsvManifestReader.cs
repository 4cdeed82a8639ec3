using System.Text;

namespace TpcCma.Data;

/// <summary>
/// Reads a CSV manifest with a header naming at least <c>image</c> and <c>caption</c> (optionally <c>label</c>,
/// <c>split</c>, <c>id</c>). Fields may be quoted (RFC 4180: <c>""</c> escapes a quote, newlines allowed inside
/// quotes). Rows naming the same image are one sample with several captions.
/// </summary>
internal static class CsvManifestReader
{
    public static ManifestContent Read(string csvPath, string root)
    {
        var content = new ManifestContent();
        var name = Path.GetRelativePath(root, csvPath);
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(csvPath))!;
        using var reader = new StreamReader(csvPath, Encoding.UTF8);
        var records = ReadRecords(reader).GetEnumerator();
        if (!records.MoveNext())
        {
            content.Errors.Add(new DatasetError($"{name}:1", DatasetErrorKind.MalformedEntry, "empty file: a header (image,caption[,label]) is needed"));
            return content;
        }
        var header = records.Current.Fields.Select(f => f.Trim().ToLowerInvariant()).ToList();
        int Column(string column) => header.IndexOf(column);
        int image = Column("image"), caption = Column("caption"), label = Column("label"), split = Column("split"), id = Column("id");
        if (image < 0 || caption < 0)
        {
            content.Errors.Add(new DatasetError($"{name}:1", DatasetErrorKind.MalformedEntry,
                $"header must name columns 'image' and 'caption', got '{string.Join(",", header)}'"));
            return content;
        }
        var byImage = new Dictionary<string, ManifestEntry>(StringComparer.Ordinal);
        while (records.MoveNext())
        {
            var (line, fields, error) = records.Current;
            var location = $"{name}:{line}";
            if (error is not null) { content.Errors.Add(new DatasetError(location, DatasetErrorKind.MalformedEntry, error)); continue; }
            if (fields.Count == 1 && fields[0].Length == 0) continue; // blank line
            if (fields.Count != header.Count)
            {
                content.Errors.Add(new DatasetError(location, DatasetErrorKind.MalformedEntry, $"expected {header.Count} fields, got {fields.Count}"));
                continue;
            }
            string? Field(int i) => i >= 0 && fields[i].Length > 0 ? fields[i] : null;
            var imagePath = Field(image);
            if (imagePath is null) { content.Errors.Add(new DatasetError(location, DatasetErrorKind.MalformedEntry, "empty 'image' field")); continue; }
            var sampleId = Field(id) ?? imagePath;
            if (byImage.TryGetValue(sampleId, out var existing))
            {
                if (existing.Label != Field(label) || existing.Split != Field(split))
                    content.Errors.Add(new DatasetError(location, DatasetErrorKind.MalformedEntry,
                        $"'{sampleId}' has label/split '{Field(label)}'/'{Field(split)}' here but '{existing.Label}'/'{existing.Split}' at {existing.Location}"));
                else
                    existing.Captions.Add(fields[caption]);
                continue;
            }
            var entry = new ManifestEntry(location, sampleId, imagePath, baseDir, [fields[caption]], Field(label), Field(split));
            byImage[sampleId] = entry;
            content.Entries.Add(entry);
        }
        return content;
    }

    /// <summary>Records with the line number they start on; an unterminated quote is reported, not guessed at.</summary>
    internal static IEnumerable<(int Line, List<string> Fields, string? Error)> ReadRecords(TextReader reader)
    {
        var line = 1;
        var fields = new List<string>();
        var field = new StringBuilder();
        var startLine = 1;
        var inQuotes = false;
        var any = false;
        int c;
        while ((c = reader.Read()) >= 0)
        {
            any = true;
            var ch = (char)c;
            if (inQuotes)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else inQuotes = false;
                }
                else
                {
                    if (ch == '\n') line++;
                    field.Append(ch);
                }
                continue;
            }
            switch (ch)
            {
                case '"' when field.Length == 0: inQuotes = true; break;
                case ',': fields.Add(field.ToString()); field.Clear(); break;
                case '\r': break;
                case '\n':
                    fields.Add(field.ToString()); field.Clear();
                    yield return (startLine, fields, null);
                    fields = [];
                    line++;
                    startLine = line;
                    any = false;
                    break;
                default: field.Append(ch); break;
            }
        }
        if (inQuotes) { yield return (startLine, fields, "unterminated quoted field"); yield break; }
        if (any) { fields.Add(field.ToString()); yield return (startLine, fields, null); }
    }
}
