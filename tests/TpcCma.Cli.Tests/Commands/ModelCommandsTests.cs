using System.Text.Json.Nodes;
using System.Text.Json;
using TorchSharp;
using TpcCma.Checkpoints;
using TpcCma.Cli;
using TpcCma.Core.Tests.Model;
using static TorchSharp.torch;
using static TpcCma.Cli.Tests.CliCapture;

namespace TpcCma.Cli.Tests.Commands;

[Collection("Console")]
public sealed class ModelCommandsTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("cli").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string WriteCaptions()
    {
        var path = Path.Combine(temp, "texts.txt");
        var captions = JsonNode.Parse(File.ReadAllText(TinyClip.Captions))!["captions"]!.AsArray();
        File.WriteAllLines(path, captions.Select(c => c!["text"]!.GetValue<string>()));
        return path;
    }

    [Theory]
    [InlineData("hf")]
    [InlineData("openclip")]
    public async Task Embed_WritesGoldenEmbeddings_ReferenceModel(string layout)
    {
        using var scope = NewDisposeScope();
        var output = Path.Combine(temp, "embeds.safetensors");
        string[] model = layout == "hf" ? ["--model", TinyClip.HfDirectory] : ["--model", TinyClip.OpenAiWeights, "--tokenizer", TinyClip.BpeGz];

        var (code, _, err) = await Run(["embed", .. model, "--images", TinyClip.Images, "--texts", WriteCaptions(), "--out", output, "--batch-size", "3"]);

        Assert.True(code == 0, err);
        using var written = Safetensors.Read(output);
        using var golden = Safetensors.Read(TinyClip.Golden);
        TinyClip.AssertClose(golden["image_features"], written["image_embeds"], 1e-5, "image_embeds");
        TinyClip.AssertClose(golden["text_features"], written["text_embeds"], 1e-5, "text_embeds");
        TinyClip.AssertClose(golden["image_features_normalized"], written["image_embeds_norm"], 1e-5, "image_embeds_norm");
        TinyClip.AssertClose(golden["text_features_normalized"], written["text_embeds_norm"], 1e-5, "text_embeds_norm");
        TinyClip.AssertClose(golden["logit_scale_exp"], written["logit_scale_exp"], 1e-5, "logit_scale_exp");
        Assert.Equal(Array.Empty<long>(), written["logit_scale"].shape);
    }

    [Fact]
    public async Task Tokenize_PrintsTheReferenceIds_Captions()
    {
        var captions = JsonNode.Parse(File.ReadAllText(TinyClip.Captions))!["captions"]!.AsArray();
        var texts = captions.Select(c => c!["text"]!.GetValue<string>()).ToArray();

        var (code, stdout, err) = await Run(["tokenize", "--model", TinyClip.HfDirectory, .. texts]);

        Assert.True(code == 0, err);
        var rows = JsonSerializer.Deserialize<long[][]>(stdout)!;
        Assert.Equal(captions.Select(c => c!["input_ids_ctx16"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray()), rows);
    }

    [Fact]
    public async Task Tokenize_UsesTheGivenContext_ContextOption()
    {
        var (code, stdout, err) = await Run(["tokenize", "--model", TinyClip.OpenAiWeights, "--tokenizer", TinyClip.BpeGz, "--context", "4", "a photo of a cat"]);

        Assert.True(code == 0, err);
        Assert.Equal([[49406, 320, 1125, 49407]], JsonSerializer.Deserialize<long[][]>(stdout)!);
    }

    [Fact]
    public async Task ExportHfThenOpenClip_GivesTheOriginalBytes_ReferenceWeights()
    {
        using var scope = NewDisposeScope();
        var hf = Path.Combine(temp, "hf");
        var back = Path.Combine(temp, "back.safetensors");

        var first = await Run("export", "--model", TinyClip.OpenAiWeights, "--tokenizer", TinyClip.BpeGz, "--format", "hf", "--out", hf);
        var second = await Run("export", "--model", hf, "--format", "openclip", "--out", back);

        Assert.True(first.Code == 0, first.Err);
        Assert.True(second.Code == 0, second.Err);
        using var original = Safetensors.Read(TinyClip.OpenAiWeights);
        using var roundTrip = Safetensors.Read(back);
        foreach (var (key, tensor) in original.Tensors)
            Assert.True(tensor.bytes.SequenceEqual(roundTrip[key].bytes), key);
    }

    [Theory]
    [InlineData("--format xml", "--format must be hf or openclip")]
    [InlineData("--format openclip --out x.bin", "must end in .safetensors")]
    [InlineData("--format hf --out OUT --colour red", "--colour")]
    public async Task Export_ExitsWith2_BadOptions(string options, string message)
    {
        var args = new[] { "export", "--model", TinyClip.HfDirectory }.Concat(options.Replace("OUT", temp).Split(' ')).ToArray();
        if (!args.Contains("--out")) args = [.. args, "--out", temp];

        var (code, _, err) = await Run(args);

        Assert.Equal(ExitCodes.InvalidRequest, code);
        Assert.Contains(message, err);
    }

    [Fact]
    public async Task Embed_ExitsWith2_ImageFolderWithoutImages()
    {
        var empty = Directory.CreateDirectory(Path.Combine(temp, "no-images")).FullName;
        var (code, _, err) = await Run("embed", "--model", TinyClip.HfDirectory, "--images", empty, "--out", Path.Combine(temp, "o.safetensors"));

        Assert.Equal(ExitCodes.InvalidRequest, code);
        Assert.Contains("holds no .png", err);
    }

    [Fact]
    public async Task Embed_ExitsWith2_UnknownModel()
    {
        var (code, _, err) = await Run("embed", "--model", "ViT-Z-99", "--texts", WriteCaptions(), "--out", Path.Combine(temp, "o.safetensors"));

        Assert.Equal(ExitCodes.InvalidRequest, code);
        Assert.Contains("ViT-Z-99", err);
    }
}
