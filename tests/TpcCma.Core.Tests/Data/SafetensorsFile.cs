using System.Text.Json;

namespace TpcCma.Core.Tests.Data;

/// <summary>Reads float32 tensors from a safetensors file (header length, JSON header, raw little-endian data).</summary>
internal static class SafetensorsFile
{
    public static (float[] Values, long[] Shape) ReadFloat32(string path, string name)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var entry = header.RootElement.GetProperty(name);
        Assert.Equal("F32", entry.GetProperty("dtype").GetString());
        var shape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var start = 8 + headerLength + (int)offsets[0];
        var values = new float[(offsets[1] - offsets[0]) / 4];
        Buffer.BlockCopy(bytes, start, values, 0, values.Length * 4);
        return (values, shape);
    }
}
