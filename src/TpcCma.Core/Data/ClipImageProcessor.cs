using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace TpcCma.Data;

/// <summary>
/// CLIP image preprocessing, as Hugging Face's CLIPImageProcessor: RGB, resize the shortest side to
/// <c>Size</c> (bicubic, other side <c>floor(Size * long / short)</c>), centre crop <c>Size x Size</c>
/// (offset <c>floor((side - Size) / 2)</c>), scale to [0, 1], normalise per channel with mean and std.
/// </summary>
public sealed class ClipImageProcessor
{
    private readonly float[] scale;
    private readonly float[] shift;

    public ImageProcessorConfig Config { get; }

    public ClipImageProcessor(ImageProcessorConfig config)
    {
        Config = config.Validated();
        // (v / 255 - mean) / std == v * scale + shift, computed once per channel.
        scale = [.. config.Std.Select(s => 1f / (255f * s))];
        shift = [.. config.Mean.Zip(config.Std, (m, s) => -m / s)];
    }

    /// <summary>The preprocessed image as a float32 tensor [3, S, S]. The input image is not changed.</summary>
    public Tensor Process(Image<Rgb24> image)
    {
        var size = Config.Size;
        return tensor(ProcessToArray(image), [3, size, size], ScalarType.Float32);
    }

    /// <summary>
    /// The preprocessed pixels, channel-major [3, S, S], as a plain array: safe to run on any thread
    /// (no tensors are created), which is how the loader's decode workers use it.
    /// </summary>
    public float[] ProcessToArray(Image<Rgb24> image)
    {
        var size = Config.Size;
        var (width, height) = ResizedSize(image.Width, image.Height, size);
        var (left, top) = CropOffset(width, height, size);
        if (width == image.Width && height == image.Height) return Normalise(image, left, top);
        using var resized = image.Clone(x => x.Resize(width, height, KnownResamplers.Bicubic));
        return Normalise(resized, left, top);
    }

    /// <summary>
    /// A training view: the <paramref name="crop"/> region resized to S x S (bicubic), optionally mirrored, then normalised.
    /// </summary>
    public float[] ProcessCropToArray(Image<Rgb24> image, Rectangle crop, bool flipHorizontally)
    {
        var size = Config.Size;
        using var view = image.Clone(x =>
        {
            x.Crop(crop).Resize(size, size, KnownResamplers.Bicubic);
            if (flipHorizontally) x.Flip(FlipMode.Horizontal);
        });
        return Normalise(view, 0, 0);
    }

    /// <summary>The S x S square at (left, top) as normalised channel-major floats.</summary>
    private float[] Normalise(Image<Rgb24> image, int left, int top)
    {
        var size = Config.Size;
        var output = new float[3 * size * size];
        var plane = size * size;
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < size; y++)
            {
                var row = rows.GetRowSpan(top + y).Slice(left, size);
                for (var x = 0; x < size; x++)
                {
                    var p = row[x];
                    var i = y * size + x;
                    output[i] = p.R * scale[0] + shift[0];
                    output[plane + i] = p.G * scale[1] + shift[1];
                    output[2 * plane + i] = p.B * scale[2] + shift[2];
                }
            }
        });
        return output;
    }

    /// <summary>The size after resizing the shortest side to <paramref name="size"/> (the long side rounds down).</summary>
    public static (int Width, int Height) ResizedSize(int width, int height, int size)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image dimensions must be positive, got {width}x{height}");
        // Integer arithmetic gives floor(size * long / short) exactly, as Python's int(size * long / short) does here.
        return width <= height
            ? (size, (int)Math.Max(size, (long)size * height / width))
            : ((int)Math.Max(size, (long)size * width / height), size);
    }

    /// <summary>The top-left corner of the centred <paramref name="size"/> square inside a <paramref name="width"/> x <paramref name="height"/> image.</summary>
    public static (int Left, int Top) CropOffset(int width, int height, int size) => ((width - size) / 2, (height - size) / 2);
}
