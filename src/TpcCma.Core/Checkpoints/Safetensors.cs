using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Checkpoints;

/// <summary>The tensors and string metadata of one safetensors file, in file order. Dispose it to free the tensors.</summary>
public sealed class SafetensorsFile(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata) : IDisposable
{
    public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors;
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

    public Tensor this[string name] => Tensors.TryGetValue(name, out var t)
        ? t
        : throw new InvalidDataException($"tensor '{name}' not found (file has: {string.Join(", ", Tensors.Keys)})");

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, JSON header, raw C-contiguous
/// little-endian data). Supports F32, F16, BF16, F64, I64, I32, I8, U8 and BOOL, 0-d tensors and <c>__metadata__</c>.
/// </summary>
public static class Safetensors
{
    private const string MetadataKey = "__metadata__";
    private const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, ScalarType> DTypes = new()
    {
        ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16,
        ["F64"] = ScalarType.Float64, ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32,
        ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8, ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    /// <summary>Reads every tensor of <paramref name="path"/> into CPU tensors.</summary>
    public static SafetensorsFile Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var (header, dataStart) = ReadHeader(stream, path);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, ScalarType Type, long[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == MetadataKey)
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            entries.Add(ParseEntry(name, node, path));
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var dataLength = stream.Length - dataStart;
        try
        {
            foreach (var (name, type, shape, begin, end) in entries.OrderBy(e => e.Begin))
            {
                var tensor = empty(shape, type);
                tensors[name] = tensor;
                var expected = tensor.NumberOfElements * tensor.ElementSize;
                if (end - begin != expected || end > dataLength)
                    throw new InvalidDataException($"{path}: tensor '{name}' has data_offsets [{begin},{end}] but needs {expected} bytes (data section {dataLength} bytes)");
                stream.Position = dataStart + begin;
                if (expected > 0) stream.ReadExactly(tensor.bytes);
            }
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        var ordered = entries.ToDictionary(e => e.Name, e => tensors[e.Name], StringComparer.Ordinal);
        return new SafetensorsFile(ordered, metadata);
    }

    /// <summary>Names, dtypes and shapes without reading any tensor data.</summary>
    public static IReadOnlyDictionary<string, (ScalarType Type, long[] Shape)> ReadShapes(string path)
    {
        using var stream = File.OpenRead(path);
        var (header, _) = ReadHeader(stream, path);
        return header.Where(kv => kv.Key != MetadataKey)
            .Select(kv => ParseEntry(kv.Key, kv.Value, path))
            .ToDictionary(e => e.Name, e => (e.Type, e.Shape), StringComparer.Ordinal);
    }

    /// <summary>The <c>__metadata__</c> map without reading any tensor data.</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        using var stream = File.OpenRead(path);
        var (header, _) = ReadHeader(stream, path);
        return header[MetadataKey]?.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() ?? "", StringComparer.Ordinal)
            ?? new Dictionary<string, string>();
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> in the given order (moved to CPU, made contiguous), to a temporary name
    /// that is then renamed, so a reader never sees half a file.
    /// </summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var scope = NewDisposeScope();
        var list = tensors.Select(kv => (kv.Key, Tensor: kv.Value.detach().cpu().contiguous())).ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header[MetadataKey] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        long offset = 0;
        foreach (var (name, t) in list)
        {
            if (name == MetadataKey) throw new ArgumentException($"a tensor may not be named {MetadataKey}");
            var size = t.NumberOfElements * t.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(t.dtype, name),
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;

        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (var i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (_, t) in list)
                if (t.NumberOfElements > 0) stream.Write(t.bytes);
        }
        File.Move(temp, path, overwrite: true);
    }

    private static (JsonObject Header, long DataStart) ReadHeader(Stream stream, string path)
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Length < 8) throw new InvalidDataException($"{path}: not a safetensors file (shorter than 8 bytes)");
        stream.ReadExactly(lengthBytes);
        var length = (long)BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (length <= 0 || length > MaxHeaderBytes || 8 + length > stream.Length)
            throw new InvalidDataException($"{path}: not a safetensors file (header length {length})");
        var json = new byte[length];
        stream.ReadExactly(json);
        try
        {
            return (JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException($"{path}: empty header"), 8 + length);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: safetensors header is not valid JSON: {ex.Message}");
        }
    }

    private static (string Name, ScalarType Type, long[] Shape, long Begin, long End) ParseEntry(string name, JsonNode? node, string path)
    {
        InvalidDataException Malformed(string what) => new($"{path}: tensor '{name}' has {what}");
        try
        {
            if (node is not JsonObject entry) throw Malformed("no header object");
            var dtype = entry["dtype"]?.GetValue<string>() ?? throw Malformed("no dtype");
            if (!DTypes.TryGetValue(dtype, out var type)) throw Malformed($"unsupported dtype {dtype}");
            var shape = (entry["shape"] as JsonArray ?? throw Malformed("no shape")).Select(d => d?.GetValue<long>() ?? -1).ToArray();
            var offsets = (entry["data_offsets"] as JsonArray ?? throw Malformed("no data_offsets")).Select(d => d?.GetValue<long>() ?? -1).ToArray();
            if (shape.Any(d => d < 0)) throw Malformed("a negative or missing dimension");
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0]) throw Malformed("bad data_offsets");
            return (name, type, shape, offsets[0], offsets[1]);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw Malformed($"a malformed header entry ({ex.Message})");
        }
    }

    private static string DTypeName(ScalarType type, string name) =>
        DTypes.FirstOrDefault(kv => kv.Value == type).Key
        ?? throw new ArgumentException($"tensor '{name}' has dtype {type}, which safetensors cannot store here");
}
