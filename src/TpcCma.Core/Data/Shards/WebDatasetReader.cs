using System.Formats.Tar;
using System.Text;
using System.Text.Json;

namespace TpcCma.Data.Shards;

/// <summary>How samples are read from shard members.</summary>
/// <param name="CaptionField">Take captions from this field of <c>KEY.json</c> (a string or an array of strings) instead of <c>KEY.txt</c>.</param>
/// <param name="LabelField">Field of <c>KEY.json</c> holding the class label (a string or a number).</param>
/// <param name="SplitField">Field of <c>KEY.json</c> holding the split; when absent, the split the shard list gives.</param>
public sealed record WebDatasetFormat(string? CaptionField = null, string LabelField = "label", string SplitField = "split",
    ImageLimits? ImageLimits = null, int MaxCaptionChars = 1000)
{
    public static WebDatasetFormat Default { get; } = new();

    /// <summary>Member extensions that hold the image, in order of preference when a sample has several.</summary>
    public static IReadOnlyList<string> ImageExtensions { get; } = ["jpg", "jpeg", "png", "webp", "gif", "bmp"];

    /// <summary>Caption (<c>.txt</c>) and metadata (<c>.json</c>) members are small; a larger one is refused unread.</summary>
    public const int MaxTextMemberBytes = 1 << 20;
}

/// <summary>
/// One sample of a shard: its key, the image member's bytes, captions, label and split. <see cref="Problem"/> is set
/// when the sample cannot be used (no image, no caption, a member over a limit); the stream goes on after it.
/// </summary>
public sealed record ShardSample(ShardRef Shard, string Key, string? ImageMember, byte[]? ImageBytes, IReadOnlyList<string> Captions,
    string? Label, string? Split, DatasetError? Problem)
{
    /// <summary><c>00012.tar!KEY.jpg</c> (or the key's first member when there is no image).</summary>
    public string Location => ShardLocation.Of(Shard.Name, ImageMember ?? Key);
}

/// <summary>
/// Reads a WebDataset shard as a stream (<see cref="System.Formats.Tar"/>, nothing written to disk). Members are
/// grouped by key, the path up to the first dot of the file name (<c>a/000123.jpg</c> and <c>a/000123.txt</c> are
/// sample <c>a/000123</c>); as in WebDataset, one sample's members are adjacent in the tar. A shard that is not a tar
/// or ends inside a member throws <see cref="ShardReadException"/> naming the shard and member, after the samples
/// read before it.
/// </summary>
public static class WebDatasetReader
{
    public static IEnumerable<ShardSample> Read(Stream stream, ShardRef shard, WebDatasetFormat format, CancellationToken ct = default)
    {
        using var checkedStream = TarCheck.Open(stream, shard);
        using var tar = new TarReader(checkedStream, leaveOpen: true);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        SampleMembers? current = null;
        string? lastMember = null;
        var entries = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var entry = NextEntry(tar, shard, lastMember, entries);
            if (entry is null)
            {
                TarCheck.RequireOnlyPadding(checkedStream, shard, lastMember);
                break;
            }
            entries++;
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue; // folders, links: not data
            var (key, extension) = KeyOf(entry.Name);
            if (current is not null && current.Key != key)
            {
                yield return current.ToSample(shard, format);
                current = null;
            }
            if (current is null)
            {
                current = new SampleMembers(key, entry.Name);
                if (!seen.Add(key))
                    current.Problem = new DatasetError(ShardLocation.Of(shard.Name, entry.Name), DatasetErrorKind.DuplicateId,
                        $"key '{key}' appears again after other samples (a sample's members must be adjacent)");
            }
            current.Read(entry, extension, shard, format);
            lastMember = entry.Name;
        }
        if (current is not null) yield return current.ToSample(shard, format);
        if (entries == 0) throw new ShardReadException(shard.Name, null, DatasetErrorKind.CorruptShard, "the shard is empty (no tar members)");
    }

    /// <summary>Sample key and lower-case extension of a member name: everything before / after the first dot of the file name.</summary>
    public static (string Key, string Extension) KeyOf(string memberName)
    {
        var slash = memberName.LastIndexOf('/');
        var dot = memberName.IndexOf('.', slash + 1);
        return dot < 0 ? (memberName, "") : (memberName[..dot], memberName[(dot + 1)..].ToLowerInvariant());
    }

    private static TarEntry? NextEntry(TarReader tar, ShardRef shard, string? lastMember, int entries)
    {
        try
        {
            return tar.GetNextEntry(copyData: false);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
        {
            var where = entries == 0 ? "is not a tar file" : $"is truncated or corrupt after member '{lastMember}'";
            throw new ShardReadException(shard.Name, entries == 0 ? null : lastMember, DatasetErrorKind.CorruptShard, $"the shard {where} ({ex.Message})", ex);
        }
    }

    /// <summary>The members of one key as they are read.</summary>
    private sealed class SampleMembers(string key, string firstMember)
    {
        public string Key { get; } = key;
        public DatasetError? Problem { get; set; }
        private string? imageMember, textMember, jsonMember;
        private byte[]? image, text, json;

        public void Read(TarEntry entry, string extension, ShardRef shard, WebDatasetFormat format)
        {
            var limits = format.ImageLimits ?? ImageLimits.Default;
            if (extension == "txt" && text is null) (textMember, text) = (entry.Name, ReadSmall(entry, shard, WebDatasetFormat.MaxTextMemberBytes));
            else if (extension == "json" && json is null) (jsonMember, json) = (entry.Name, ReadSmall(entry, shard, WebDatasetFormat.MaxTextMemberBytes));
            else if (WebDatasetFormat.ImageExtensions.Contains(extension) && image is null && imageMember is null)
            {
                imageMember = entry.Name;
                if (entry.Length > limits.MaxFileBytes)
                    Problem ??= new DatasetError(ShardLocation.Of(shard.Name, entry.Name), DatasetErrorKind.ImageTooLarge,
                        $"image member is {entry.Length} bytes, over the limit of {limits.MaxFileBytes}");
                else image = ReadAll(entry, shard);
            }
            // Anything else (.cls, .npy, a second image) is not used; the tar reader steps over its data.
        }

        private byte[]? ReadSmall(TarEntry entry, ShardRef shard, int limit)
        {
            if (entry.Length <= limit) return ReadAll(entry, shard);
            Problem ??= new DatasetError(ShardLocation.Of(shard.Name, entry.Name), DatasetErrorKind.MalformedEntry,
                $"member is {entry.Length} bytes, over the limit of {limit} for captions and metadata");
            return null;
        }

        private static byte[] ReadAll(TarEntry entry, ShardRef shard)
        {
            var bytes = new byte[entry.Length];
            if (entry.DataStream is null) return bytes;
            try
            {
                var read = 0;
                while (read < bytes.Length)
                {
                    var n = entry.DataStream.Read(bytes, read, bytes.Length - read);
                    if (n == 0) break;
                    read += n;
                }
                if (read < bytes.Length)
                    throw new ShardReadException(shard.Name, entry.Name, DatasetErrorKind.CorruptShard,
                        $"the shard ends inside this member ({read} of {bytes.Length} bytes)");
            }
            catch (Exception ex) when (ex is EndOfStreamException or InvalidDataException && ex is not ShardReadException)
            {
                throw new ShardReadException(shard.Name, entry.Name, DatasetErrorKind.CorruptShard, $"the shard ends inside this member ({ex.Message})", ex);
            }
            return bytes;
        }

        public ShardSample ToSample(ShardRef shard, WebDatasetFormat format)
        {
            var location = ShardLocation.Of(shard.Name, imageMember ?? firstMember);
            var metadata = ParseJson(shard, format);
            var captions = Captions(format, metadata, location);
            string? label = null, split = shard.Split;
            if (metadata is { } root)
            {
                label = Scalar(root, format.LabelField);
                split = Scalar(root, format.SplitField) ?? split;
            }
            if (imageMember is null)
                Problem ??= new DatasetError(location, DatasetErrorKind.MissingFile,
                    $"sample '{Key}' has no image member ({string.Join(", ", WebDatasetFormat.ImageExtensions.Select(e => "." + e))})");
            return new ShardSample(shard, Key, imageMember, Problem is null ? image : null, captions, label, split, Problem);
        }

        private JsonElement? ParseJson(ShardRef shard, WebDatasetFormat format)
        {
            if (json is null) return null;
            try
            {
                using var doc = JsonDocument.Parse(json);
                if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc.RootElement.Clone();
                Problem ??= new DatasetError(ShardLocation.Of(shard.Name, jsonMember), DatasetErrorKind.MalformedEntry, "metadata is not a JSON object");
            }
            catch (JsonException ex)
            {
                Problem ??= new DatasetError(ShardLocation.Of(shard.Name, jsonMember), DatasetErrorKind.MalformedEntry, $"metadata is not valid JSON ({ex.Message})");
            }
            return null;
        }

        private List<string> Captions(WebDatasetFormat format, JsonElement? metadata, string location)
        {
            List<string> captions = [];
            if (format.CaptionField is { } field)
            {
                if (metadata is { } root && root.TryGetProperty(field, out var value))
                    captions = value.ValueKind == JsonValueKind.Array
                        ? [.. value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!.Trim())]
                        : value.ValueKind == JsonValueKind.String ? [value.GetString()!.Trim()] : [];
                else Problem ??= new DatasetError(location, DatasetErrorKind.EmptyCaption,
                    json is null ? $"no caption: {Key}.json is missing" : $"no caption: {jsonMember} has no field '{field}'");
            }
            else if (text is not null)
                // One caption per line: a shard may carry several captions per image.
                captions = [.. Encoding.UTF8.GetString(text).Split('\n').Select(l => l.Trim())];
            else
                Problem ??= new DatasetError(location, DatasetErrorKind.EmptyCaption, $"no caption: {Key}.txt is missing");
            captions.RemoveAll(c => c.Length == 0);
            if (captions.Count == 0)
                Problem ??= new DatasetError(location, DatasetErrorKind.EmptyCaption, "the caption is empty");
            if (captions.FirstOrDefault(c => c.Length > format.MaxCaptionChars) is { } tooLong)
                Problem ??= new DatasetError(location, DatasetErrorKind.CaptionTooLong, $"caption of {tooLong.Length} characters, over the limit of {format.MaxCaptionChars}");
            return captions;
        }

        private static string? Scalar(JsonElement root, string field) =>
            root.TryGetProperty(field, out var value)
                ? value.ValueKind switch { JsonValueKind.String => value.GetString(), JsonValueKind.Number => value.GetRawText(), _ => null }
                : null;
    }
}
