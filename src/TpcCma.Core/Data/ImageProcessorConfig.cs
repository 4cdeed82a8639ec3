using System.Text.Json;

namespace TpcCma.Data;

/// <summary>
/// CLIP image preprocessing settings: the square side the image is resized and cropped to, and the per-channel
/// mean and standard deviation used to normalise pixels scaled to [0, 1].
/// </summary>
public sealed record ImageProcessorConfig(int Size, float[] Mean, float[] Std)
{
    /// <summary>OpenAI CLIP's channel mean (RGB).</summary>
    public static IReadOnlyList<float> ClipMean { get; } = [0.48145466f, 0.4578275f, 0.40821073f];

    /// <summary>OpenAI CLIP's channel standard deviation (RGB).</summary>
    public static IReadOnlyList<float> ClipStd { get; } = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>The OpenAI CLIP settings at the given side length.</summary>
    public static ImageProcessorConfig Clip(int size) => new(size, [.. ClipMean], [.. ClipStd]);

    /// <summary>The preprocessing a model expects: its image resolution, mean and std.</summary>
    public static ImageProcessorConfig For(TpcCma.Model.ClipConfig model) =>
        new(model.ImageResolution, [.. model.Mean.Select(v => (float)v)], [.. model.Std.Select(v => (float)v)]);

    /// <summary>Throws when the size is not positive or mean/std are not three finite values (std &gt; 0).</summary>
    public ImageProcessorConfig Validated()
    {
        if (Size <= 0) throw new ArgumentException($"image size must be positive, got {Size}");
        if (Mean is not { Length: 3 } || Mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException("image mean must hold 3 finite values (R, G, B)");
        if (Std is not { Length: 3 } || Std.Any(s => !float.IsFinite(s) || s <= 0))
            throw new ArgumentException("image std must hold 3 finite positive values (R, G, B)");
        return this;
    }

    /// <summary>
    /// Reads a Hugging Face <c>preprocessor_config.json</c>: the side from <c>crop_size</c> (an int or
    /// <c>{height,width}</c>), else <c>size.shortest_edge</c> (or <c>size</c> as an int); <c>image_mean</c>, <c>image_std</c>.
    /// </summary>
    public static ImageProcessorConfig FromPreprocessorConfig(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        int? size = SideOf(root, "crop_size", path) ?? SideOf(root, "size", path);
        if (size is null) throw new InvalidDataException($"{path}: neither crop_size nor size.shortest_edge is given");
        var config = new ImageProcessorConfig(size.Value, Floats(root, "image_mean", path), Floats(root, "image_std", path));
        try { return config.Validated(); }
        catch (ArgumentException ex) { throw new InvalidDataException($"{path}: {ex.Message}", ex); }
    }

    private static int? SideOf(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Number) return value.GetInt32();
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: {name} must be a number or an object");
        if (value.TryGetProperty("shortest_edge", out var edge)) return edge.GetInt32();
        if (value.TryGetProperty("height", out var h) && value.TryGetProperty("width", out var w))
        {
            return h.GetInt32() == w.GetInt32()
                ? h.GetInt32()
                : throw new InvalidDataException($"{path}: {name} must be square, got {h.GetInt32()}x{w.GetInt32()}");
        }
        return null;
    }

    private static float[] Floats(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: {name} must be an array of 3 numbers");
        return [.. value.EnumerateArray().Select(v => v.GetSingle())];
    }
}
