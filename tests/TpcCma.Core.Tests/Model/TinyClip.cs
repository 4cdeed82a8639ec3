using TorchSharp;
using TpcCma.Checkpoints;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Model;

/// <summary>The reference tiny CLIP's files (refdata/clip-tiny) and a max-abs-difference helper.</summary>
public static class TinyClip
{
    public static string OpenAiWeights => RefData.Path("clip-tiny", "openai", "tiny_clip_openai.safetensors");
    public static string HfDirectory => RefData.Path("clip-tiny", "hf");
    public static string Images => RefData.Path("clip-tiny", "inputs", "images.safetensors");
    public static string Golden => RefData.Path("clip-tiny", "golden", "outputs.safetensors");
    public static string Captions => RefData.Path("clip-tiny", "inputs", "captions.json");
    public static string BpeGz => RefData.Path("clip-tiny", "tokenizer", "bpe_simple_vocab_16e6.txt.gz");
    public static string TokenizerCases => RefData.Path("clip-tiny", "tokenizer", "tokenizer_cases.json");

    public static double MaxAbsDiff(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var diff = (actual.to(float64) - expected.to(float64)).abs().max();
        return diff.item<double>();
    }

    public static void AssertClose(Tensor expected, Tensor actual, double atol, string what)
    {
        var diff = MaxAbsDiff(actual, expected);
        Assert.True(diff <= atol, $"{what}: max abs diff {diff:E3} > {atol:E1}");
    }
}
