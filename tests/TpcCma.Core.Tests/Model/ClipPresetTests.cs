using System.Text.RegularExpressions;
using TorchSharp;
using TpcCma.Checkpoints;
using TpcCma.Model;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Model;

/// <summary>Runs alone: it switches TorchSharp's process-wide default device to "meta" to build big models without memory.</summary>
[CollectionDefinition("MetaDevice", DisableParallelization = true)]
public class MetaDeviceCollection;

[Collection("MetaDevice")]
public class ClipPresetTests
{
    private static Dictionary<string, long[]> MetaShapes(string preset)
    {
        var previous = get_default_device();
        set_default_device(META);
        try
        {
            using var model = new ClipModel(ClipConfig.Preset(preset));
            Assert.All(model.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
            return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        }
        finally
        {
            set_default_device(previous);
        }
    }

    [Fact]
    public void ParameterCount_Is151277313_VitB32()
    {
        var shapes = MetaShapes("ViT-B-32");
        var count = shapes.Values.Sum(s => s.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(151_277_313L, count);
    }

    [Fact]
    public void SmallPreset_LiesBetweenTinyAndVitB32()
    {
        static long Count(string preset) => MetaShapes(preset).Values.Sum(s => s.Aggregate(1L, (a, b) => a * b));
        var (tiny, small, b32) = (Count("tiny"), Count("small"), Count("ViT-B-32"));
        Assert.InRange(small, 2 * tiny, b32 / 10);
        var config = ClipConfig.Preset("small");
        Assert.Equal((48, 8, 4, 3), (config.ImageResolution, config.VisionPatchSize, config.VisionLayers, config.TransformerLayers));
    }

    [Theory]
    [InlineData("ViT-B-32", 12, 12)]
    [InlineData("ViT-B-16", 12, 12)]
    [InlineData("ViT-L-14", 24, 12)]
    public void StateDictKeys_FollowTheOpenAiPatternWithEveryLayer_Preset(string preset, int visionLayers, int textLayers)
    {
        // The reference file's keys, with its two layers per tower widened to the preset's layer counts.
        var block = new Regex(@"^(visual\.)?transformer\.resblocks\.(\d+)\.(.*)$");
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in Safetensors.ReadShapes(TinyClip.OpenAiWeights).Keys)
        {
            var m = block.Match(key);
            if (!m.Success) { expected.Add(key); continue; }
            var layers = m.Groups[1].Success ? visionLayers : textLayers;
            for (var i = 0; i < layers; i++) expected.Add($"{m.Groups[1].Value}transformer.resblocks.{i}.{m.Groups[3].Value}");
        }

        var shapes = MetaShapes(preset);

        Assert.Equal(expected.Order(StringComparer.Ordinal), shapes.Keys.Order(StringComparer.Ordinal));
        var config = ClipConfig.Preset(preset);
        var patch = config.VisionPatchSize;
        Assert.Equal([config.VisionWidth, 3, patch, patch], shapes["visual.conv1.weight"]);
        Assert.Equal([(224 / patch) * (224 / patch) + 1, config.VisionWidth], shapes["visual.positional_embedding"]);
        Assert.Equal([77, config.TransformerWidth], shapes["positional_embedding"]);
        Assert.Equal([49408, config.TransformerWidth], shapes["token_embedding.weight"]);
        Assert.Equal(Array.Empty<long>(), shapes["logit_scale"]);
    }
}
