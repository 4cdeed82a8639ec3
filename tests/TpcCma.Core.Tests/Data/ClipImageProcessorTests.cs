using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Data;

namespace TpcCma.Core.Tests.Data;

public class ClipImageProcessorTests
{
    [Fact]
    public void Process_MatchesReferencePixelValues_ForRefdataImagesSavedAsPng()
    {
        var file = RefData.Path("clip-tiny", "inputs", "images.safetensors");
        var (raw, shape) = SafetensorsFile.ReadFloat32(file, "pixels_unnormalized");
        var (expected, _) = SafetensorsFile.ReadFloat32(file, "pixel_values");
        var config = ImageProcessorConfig.FromPreprocessorConfig(RefData.Path("clip-tiny", "hf", "preprocessor_config.json"));
        var processor = new ClipImageProcessor(config);
        int n = (int)shape[0], h = (int)shape[2], w = (int)shape[3], plane = h * w;
        var dir = Directory.CreateTempSubdirectory("tpccma-proc-");
        try
        {
            for (var i = 0; i < n; i++)
            {
                // Round-trip through an 8-bit PNG, as a dataset on disk would hold it.
                var path = Path.Combine(dir.FullName, $"{i}.png");
                using (var image = new Image<Rgb24>(w, h))
                {
                    for (var y = 0; y < h; y++)
                        for (var x = 0; x < w; x++)
                        {
                            byte Channel(int c) => (byte)Math.Round(Math.Clamp(raw[((i * 3 + c) * h + y) * w + x], 0f, 1f) * 255f);
                            image[x, y] = new Rgb24(Channel(0), Channel(1), Channel(2));
                        }
                    image.SaveAsPng(path);
                }
                using var loaded = ImageLoader.Load(path);
                using var actual = processor.Process(loaded);
                Assert.Equal(new long[] { 3, h, w }, actual.shape);
                var values = actual.data<float>().ToArray();
                for (var c = 0; c < 3; c++)
                {
                    // Half an 8-bit step of quantisation, in normalised units, plus float rounding.
                    var tolerance = 0.5f / 255f / config.Std[c] + 1e-5f;
                    for (var j = 0; j < plane; j++)
                    {
                        var diff = Math.Abs(values[c * plane + j] - expected[(i * 3 + c) * plane + j]);
                        Assert.True(diff <= tolerance, $"image {i} channel {c} pixel {j}: diff {diff} > {tolerance}");
                    }
                }
            }
        }
        finally { dir.Delete(recursive: true); }
    }

    [Theory]
    [InlineData(64, 32, 16, 32, 16)]
    [InlineData(32, 64, 16, 16, 32)]
    [InlineData(100, 30, 32, 106, 32)]
    [InlineData(30, 100, 32, 32, 106)]
    [InlineData(224, 224, 224, 224, 224)]
    [InlineData(7, 5, 224, 313, 224)]
    public void ResizedSize_ScalesShortestSideAndFloorsLongSide(int w, int h, int size, int expectedW, int expectedH)
    {
        Assert.Equal((expectedW, expectedH), ClipImageProcessor.ResizedSize(w, h, size));
    }

    [Theory]
    [InlineData(32, 16, 16, 8, 0)]
    [InlineData(16, 33, 16, 0, 8)]
    [InlineData(16, 16, 16, 0, 0)]
    public void CropOffset_CentresTheSquare_RoundingDown(int w, int h, int size, int left, int top)
    {
        Assert.Equal((left, top), ClipImageProcessor.CropOffset(w, h, size));
    }

    [Fact]
    public void Process_WideImage_KeepsTheCentreAndDropsTheSides()
    {
        // 48x16: red | green | blue thirds. Resized to 48x16 is a no-op at size 16; the centre crop is all green.
        using var image = new Image<Rgb24>(48, 16);
        for (var y = 0; y < 16; y++)
            for (var x = 0; x < 48; x++)
                image[x, y] = x < 16 ? new Rgb24(255, 0, 0) : x < 32 ? new Rgb24(0, 255, 0) : new Rgb24(0, 0, 255);
        var processor = new ClipImageProcessor(ImageProcessorConfig.Clip(16));
        var values = processor.ProcessToArray(image);
        var config = processor.Config;
        float Normalised(int c, float v) => (v - config.Mean[c]) / config.Std[c];
        Assert.All(values[..256], v => Assert.Equal(Normalised(0, 0f), v, 1e-5f));
        Assert.All(values[256..512], v => Assert.Equal(Normalised(1, 1f), v, 1e-5f));
        Assert.All(values[512..], v => Assert.Equal(Normalised(2, 0f), v, 1e-5f));
        Assert.Equal(48, image.Width); // the input is not mutated
    }

    [Fact]
    public void Process_TallImageDownscaled_KeepsTheMiddleBand()
    {
        // 20x60: top third black, middle white, bottom black. At size 10 it becomes 10x30; crop rows 10..19 = the white band.
        using var image = new Image<Rgb24>(20, 60);
        for (var y = 0; y < 60; y++)
            for (var x = 0; x < 20; x++)
                image[x, y] = y is >= 20 and < 40 ? new Rgb24(255, 255, 255) : new Rgb24(0, 0, 0);
        var processor = new ClipImageProcessor(new ImageProcessorConfig(10, [0f, 0f, 0f], [1f, 1f, 1f]));
        var values = processor.ProcessToArray(image);
        // Bicubic blurs the band edges slightly; the inner rows are pure white.
        for (var y = 2; y < 8; y++)
            for (var x = 0; x < 10; x++)
                Assert.Equal(1f, values[y * 10 + x], 0.02f);
        // Rows 0 and 9 sit on the band's border in the 10x30 resize (source rows 20 and 39): blurred towards black.
        Assert.InRange(values[0], 0.3f, 0.95f);
        Assert.InRange(values[9 * 10], 0.3f, 0.95f);
    }

    [Fact]
    public void FromPreprocessorConfig_RejectsNonSquareCrop_NamingTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pp-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"crop_size":{"height":32,"width":16},"image_mean":[0,0,0],"image_std":[1,1,1]}""");
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => ImageProcessorConfig.FromPreprocessorConfig(path));
            Assert.Contains(path, ex.Message);
            Assert.Contains("square", ex.Message);
        }
        finally { File.Delete(path); }
    }
}
