using System.Text.Json.Nodes;
using TorchSharp;
using TpcCma.Checkpoints;
using TpcCma.Model;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Model;

/// <summary>The C# CLIP against the outputs of the upstream OpenAI implementation for the tiny reference model.</summary>
public class ClipModelParityTests(ITestOutputHelper output)
{
    private void Check(Tensor expected, Tensor actual, double atol, string what)
    {
        output.WriteLine($"{what}: max abs diff {TinyClip.MaxAbsDiff(actual, expected):E2}");
        TinyClip.AssertClose(expected, actual, atol, what);
    }

    /// <summary>What each parity check starts from: the OpenAI weights in eval mode, the reference images and golden outputs, no gradients.</summary>
    private sealed class OpenAiReference : IDisposable
    {
        public ClipModel Model { get; } = OpenClipCheckpoint.Load(TinyClip.OpenAiWeights);
        public SafetensorsFile Images { get; } = Safetensors.Read(TinyClip.Images);
        public SafetensorsFile Golden { get; } = Safetensors.Read(TinyClip.Golden);
        private readonly IDisposable noGrad = no_grad();

        public OpenAiReference() => Model.eval();

        public void Dispose()
        {
            noGrad.Dispose();
            Golden.Dispose();
            Images.Dispose();
            Model.Dispose();
        }
    }

    [Fact]
    public void EncodeImageAndText_MatchGoldenFeaturesAndLogits_OpenAiWeights()
    {
        using var scope = NewDisposeScope();
        using var reference = new OpenAiReference();
        var (model, images, golden) = (reference.Model, reference.Images, reference.Golden);

        var imageFeatures = model.encode_image(images["pixel_values"]);
        var textFeatures = model.encode_text(golden["input_ids"]);
        Check(golden["image_features"], imageFeatures, 1e-5, "image_features");
        Check(golden["text_features"], textFeatures, 1e-5, "text_features");

        using var result = model.forward(images["pixel_values"], golden["input_ids"]);
        Check(golden["image_features_normalized"], result.ImageFeatures, 1e-5, "image_features_normalized");
        Check(golden["text_features_normalized"], result.TextFeatures, 1e-5, "text_features_normalized");
        Check(golden["logit_scale_exp"], result.LogitScale, 1e-5, "logit_scale_exp");
        var logits = result.LogitScale * result.ImageFeatures.matmul(result.TextFeatures.t());
        Check(golden["logits_per_image"], logits, 1e-4, "logits_per_image");
        Check(golden["logits_per_text"], logits.t(), 1e-4, "logits_per_text");
    }

    [Fact]
    public void Intermediates_MatchGoldenActivations_OpenAiWeights()
    {
        using var scope = NewDisposeScope();
        using var reference = new OpenAiReference();
        var (model, images, golden) = (reference.Model, reference.Images, reference.Golden);
        var seen = new Dictionary<string, Tensor>();
        // The observers run inside the model's own dispose scopes: keep copies in this test's scope.
        model.Visual.forward(images["pixel_values"], (name, t) => seen["vision_" + name] = t.clone().MoveToOtherDisposeScope(scope));
        model.EncodeText(golden["input_ids"], (name, t) => seen["text_" + name] = t.clone().MoveToOtherDisposeScope(scope));

        string[] expected = ["vision_patch_embeds", "vision_ln_pre_out", "vision_block0_out", "vision_block1_out", "vision_pooled",
            "text_embed_out", "text_block0_out", "text_block1_out", "text_ln_final_out", "text_pooled"];
        foreach (var name in expected)
        {
            Assert.True(seen.ContainsKey(name), $"intermediate {name} was not observed");
            Check(golden[name], seen[name], 1e-5, name);
        }
        Assert.Equal(golden["eot_positions"].data<long>().ToArray(), golden["input_ids"].argmax(-1).data<long>().ToArray());
    }

    [Fact]
    public void StateDict_HasExactlyTheOpenAiKeysAndShapes_TinyPreset()
    {
        using var model = new ClipModel(ClipConfig.Preset("tiny"));
        var reference = Safetensors.ReadShapes(TinyClip.OpenAiWeights);
        var ours = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, (_, shape)) in reference)
            Assert.True(shape.SequenceEqual(ours[key]), $"{key}: reference [{string.Join(",", shape)}], model [{string.Join(",", ours[key])}]");
        Assert.Equal(62, ours.Count);
    }

    [Fact]
    public void TinyPreset_EqualsReferenceConstructorArguments()
    {
        var reference = JsonNode.Parse(File.ReadAllText(RefData.Path("clip-tiny", "tiny_config.json")))!;
        var args = reference["openai_CLIP_ctor_args"]!.AsObject();
        var preset = JsonNode.Parse(ClipConfig.Preset("tiny").ToJson())!.AsObject();

        foreach (var (key, value) in args)
            Assert.Equal(value!.GetValue<int>(), preset[key]!.GetValue<int>());
        var config = ClipConfig.Preset("tiny");
        Assert.Equal(reference["vision_heads_derived"]!.GetValue<int>(), config.VisionHeadCount);
        Assert.Equal("quick_gelu", config.Activation);
        Assert.Equal(reference["image_mean"]!.AsArray().Select(v => v!.GetValue<double>()), config.Mean);
        Assert.Equal(reference["image_std"]!.AsArray().Select(v => v!.GetValue<double>()), config.Std);
    }
}
