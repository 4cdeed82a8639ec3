using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SafetensorsFile = TpcCma.Core.Tests.Data.SafetensorsFile;

namespace TpcCma.Cli.Tests.Commands;

/// <summary><c>tpccma embed --images DIR</c>: image files go through CLIP preprocessing and match the reference features.</summary>
[Collection("Console")]
public sealed class EmbedFolderTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("embed-dir").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public async Task Embed_FolderOfPngs_MatchesGoldenImageFeaturesWithinEightBitRounding()
    {
        var file = RefData.Path("clip-tiny", "inputs", "images.safetensors");
        var (raw, shape) = SafetensorsFile.ReadFloat32(file, "pixels_unnormalized");
        int n = (int)shape[0], h = (int)shape[2], w = (int)shape[3];
        var images = Directory.CreateDirectory(Path.Combine(temp, "images")).FullName;
        for (var i = 0; i < n; i++)
        {
            using var image = new Image<Rgb24>(w, h);
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                {
                    byte Channel(int c) => (byte)Math.Round(Math.Clamp(raw[((i * 3 + c) * h + y) * w + x], 0f, 1f) * 255f);
                    image[x, y] = new Rgb24(Channel(0), Channel(1), Channel(2));
                }
            image.SaveAsPng(Path.Combine(images, $"{i:D2}.png"));   // name order = reference order
        }
        var output = Path.Combine(temp, "out.safetensors");
        var previous = Console.Out;
        Console.SetOut(new StringWriter());
        int code;
        try { code = await CliApp.RunAsync(["embed", "--model", RefData.Path("clip-tiny", "hf"), "--images", images, "--out", output]); }
        finally { Console.SetOut(previous); }

        Assert.Equal(ExitCodes.Ok, code);
        using var embeds = Safetensors.Read(output);
        var (golden, _) = SafetensorsFile.ReadFloat32(RefData.Path("clip-tiny", "golden", "outputs.safetensors"), "image_features");
        var actual = embeds["image_embeds"].data<float>().ToArray();
        Assert.Equal(golden.Length, actual.Length);
        // 8-bit PNG rounding moves each pixel by up to 0.5/255; the features move by a few thousandths.
        Assert.All(actual.Zip(golden), p => Assert.True(Math.Abs(p.First - p.Second) < 0.02, $"{p.First} vs {p.Second}"));
    }
}
