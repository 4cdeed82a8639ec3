using System.Text.Json.Nodes;

namespace TpcCma.Core.Tests.Checkpoints;

/// <summary>OpenAI/OpenCLIP and Hugging Face layouts: import reproduces the golden outputs, export round-trips exactly.</summary>
public sealed class CheckpointFormatTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ckpt").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static (Tensor Image, Tensor Text) Features(ClipModel model)
    {
        model.eval();
        using var images = Safetensors.Read(TinyClip.Images);
        using var golden = Safetensors.Read(TinyClip.Golden);
        using var _ = no_grad();
        return (model.encode_image(images["pixel_values"]), model.encode_text(golden["input_ids"]));
    }

    [Fact]
    public void LoadHf_ReproducesGoldenFeatures_ReferenceHfFolder()
    {
        using var scope = NewDisposeScope();
        using var model = HfClipCheckpoint.Load(TinyClip.HfDirectory);
        using var golden = Safetensors.Read(TinyClip.Golden);

        var (image, text) = Features(model);

        Assert.Equal(ClipConfig.Preset("tiny"), model.Config);
        TinyClip.AssertClose(golden["image_features"], image, 1e-5, "image_features");
        TinyClip.AssertClose(golden["text_features"], text, 1e-5, "text_features");
    }

    /// <summary>Writes <paramref name="model"/> as a Hugging Face folder (in this test's temporary folder) and loads it back.</summary>
    private ClipModel SaveAsHfAndReload(ClipModel model, ClipTokenizer tokenizer)
    {
        HfClipCheckpoint.Save(model, tokenizer, temp);
        return HfClipCheckpoint.Load(temp);
    }

    [Fact]
    public void ExportHfThenImport_GivesIdenticalEmbeddings_OpenAiWeights()
    {
        using var scope = NewDisposeScope();
        using var original = OpenClipCheckpoint.Load(TinyClip.OpenAiWeights);
        using var reloaded = SaveAsHfAndReload(original, ClipTokenizer.Load(TinyClip.BpeGz));

        var (image0, text0) = Features(original);
        var (image1, text1) = Features(reloaded);

        Assert.Equal(0.0, TinyClip.MaxAbsDiff(image1, image0));
        Assert.Equal(0.0, TinyClip.MaxAbsDiff(text1, text0));
        Assert.Equal(original.Config, reloaded.Config);
        Assert.Equal(ClipTokenizer.Load(TinyClip.BpeGz).Encode("a red circle"), ClipTokenizer.Load(temp).Encode("a red circle"));
    }

    [Fact]
    public void OpenClipToHfToOpenClip_IsBitExact_ReferenceWeights()
    {
        using var scope = NewDisposeScope();
        using var model = OpenClipCheckpoint.Load(TinyClip.OpenAiWeights);
        using var fromHf = SaveAsHfAndReload(model, ClipTokenizer.Load(TinyClip.HfDirectory));
        var roundTrip = Path.Combine(temp, "round_trip.safetensors");
        OpenClipCheckpoint.Save(fromHf, roundTrip);

        using var before = Safetensors.Read(TinyClip.OpenAiWeights);
        using var after = Safetensors.Read(roundTrip);
        Assert.Equal(before.Tensors.Keys.Order(StringComparer.Ordinal), after.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, tensor) in before.Tensors)
        {
            Assert.Equal(tensor.dtype, after[key].dtype);
            Assert.Equal(tensor.shape, after[key].shape);
            Assert.True(tensor.bytes.SequenceEqual(after[key].bytes), $"{key}: bytes differ");
        }
        Assert.Equal(model.Config, OpenClipCheckpoint.ConfigFromMetadata(after.Metadata, roundTrip));
    }

    [Fact]
    public void ExportHf_MatchesTheReferenceFolder_KeysShapesAndConfigs()
    {
        using var model = OpenClipCheckpoint.Load(TinyClip.OpenAiWeights);
        HfClipCheckpoint.Save(model, ClipTokenizer.Load(TinyClip.HfDirectory), temp);

        // The reference also carries the legacy position_ids buffers, which current transformers no longer saves.
        var reference = Safetensors.ReadShapes(Path.Combine(TinyClip.HfDirectory, "model.safetensors"))
            .Where(kv => !HfClipKeyMap.PositionIdKeys.Contains(kv.Key)).ToDictionary();
        var exported = Safetensors.ReadShapes(Path.Combine(temp, "model.safetensors"));
        Assert.Equal(78, reference.Count);
        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), exported.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, (type, shape)) in reference)
        {
            Assert.Equal(type, exported[key].Type);
            Assert.True(shape.SequenceEqual(exported[key].Shape), key);
        }
        foreach (var name in new[] { "config.json", "preprocessor_config.json", "tokenizer_config.json", "special_tokens_map.json" })
        {
            var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(TinyClip.HfDirectory, name)));
            var actual = JsonNode.Parse(File.ReadAllText(Path.Combine(temp, name)));
            Assert.True(JsonNode.DeepEquals(expected, actual), $"{name} differs:\n{actual}\nexpected:\n{expected}");
        }
        Assert.Equal(File.ReadAllText(Path.Combine(TinyClip.HfDirectory, "merges.txt")).TrimEnd(), File.ReadAllText(Path.Combine(temp, "merges.txt")).TrimEnd());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(Path.Combine(TinyClip.HfDirectory, "vocab.json"))),
            JsonNode.Parse(File.ReadAllText(Path.Combine(temp, "vocab.json")))));
    }

    [Fact]
    public void LoadHf_ListsEveryBadKeyInOneError_DamagedWeights()
    {
        using var scope = NewDisposeScope();
        foreach (var name in new[] { "config.json", "preprocessor_config.json" })
            File.Copy(Path.Combine(TinyClip.HfDirectory, name), Path.Combine(temp, name));
        WriteDamagedCopy(Path.Combine(TinyClip.HfDirectory, "model.safetensors"), Path.Combine(temp, "model.safetensors"), keepMetadata: false,
            dropped: "text_model.final_layer_norm.bias", reshaped: ("vision_model.encoder.layers.0.self_attn.k_proj.weight", [128, 64]),
            added: "text_model.extra.weight");

        var ex = Assert.Throws<InvalidDataException>(() => HfClipCheckpoint.Load(temp));

        Assert.Contains("missing keys: text_model.final_layer_norm.bias", ex.Message);
        Assert.Contains("unexpected keys: text_model.extra.weight", ex.Message);
        Assert.Contains("vision_model.encoder.layers.0.self_attn.k_proj.weight (file [128, 64], expected [128, 128])", ex.Message);
    }

    /// <summary>Copies a checkpoint with three faults at once, which a loader must report together: a key dropped, a tensor of the wrong shape, a key added.</summary>
    private static void WriteDamagedCopy(string source, string target, bool keepMetadata, string dropped, (string Key, long[] Shape) reshaped, string added)
    {
        using var file = Safetensors.Read(source);
        var damaged = file.Tensors.Where(kv => kv.Key != dropped).ToDictionary();
        damaged[reshaped.Key] = zeros(reshaped.Shape);
        damaged[added] = zeros(2);
        Safetensors.Write(target, damaged, keepMetadata ? file.Metadata : null);
    }

    [Fact]
    public void LoadOpenClip_ListsEveryBadKeyInOneError_DamagedWeights()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(temp, "bad.safetensors");
        WriteDamagedCopy(TinyClip.OpenAiWeights, path, keepMetadata: true,
            dropped: "ln_final.bias", reshaped: ("visual.proj", [128, 16]), added: "visual.attn_pool.weight");

        var ex = Assert.Throws<InvalidDataException>(() => OpenClipCheckpoint.Load(path));

        Assert.Contains("missing keys: ln_final.bias", ex.Message);
        Assert.Contains("unexpected keys: visual.attn_pool.weight", ex.Message);
        Assert.Contains("visual.proj (file [128, 16], model [128, 32])", ex.Message);
    }

    [Fact]
    public void InferConfig_ReadsTheArchitectureFromShapes_NoMetadata()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(temp, "no-meta.safetensors");
        using (var file = Safetensors.Read(TinyClip.OpenAiWeights))
            Safetensors.Write(path, file.Tensors);
        var tiny = ClipConfig.Preset("tiny");

        var inferred = OpenClipCheckpoint.InferConfig(Safetensors.ReadShapes(path).ToDictionary(kv => kv.Key, kv => kv.Value.Shape), path);
        using var model = OpenClipCheckpoint.Load(path, tiny);

        // Head counts are invisible in shapes: OpenAI's rule (width / 64) gives 1 text head where the tiny model has 2.
        Assert.Equal(tiny with { TransformerHeads = 1 }, inferred);
        using var golden = Safetensors.Read(TinyClip.Golden);
        TinyClip.AssertClose(golden["text_features"], Features(model).Text, 1e-5, "text_features with the named preset");
    }
}
