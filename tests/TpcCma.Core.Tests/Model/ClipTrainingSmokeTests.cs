using TorchSharp;
using TpcCma.Checkpoints;
using TpcCma.Model;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Model;

[Collection("Torch")]
public class ClipTrainingSmokeTests
{
    private static Tensor ContrastiveLoss(ClipOutput output)
    {
        var logits = output.LogitScale * output.ImageFeatures.matmul(output.TextFeatures.t());   // [B, B]
        var labels = arange(logits.shape[0], dtype: ScalarType.Int64);
        return (nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.t(), labels)) / 2;
    }

    [Fact]
    public void FreshModel_LearnsToMatchABatch_OpenAiInitialisation()
    {
        manual_seed(3);
        using var model = new ClipModel(ClipConfig.Preset("tiny"));
        using var images = Safetensors.Read(TinyClip.Images);
        using var golden = Safetensors.Read(TinyClip.Golden);
        var pixels = images["pixel_values"];
        var ids = golden["input_ids"];
        using var optimizer = optim.AdamW(model.parameters(), lr: 2e-3);
        Assert.Equal(Math.Log(1 / 0.07), model.LogitScaleParameter.item<float>(), 5);

        var losses = new List<float>();
        for (var step = 0; step < 12; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            using var output = model.forward(pixels, ids);
            var loss = ContrastiveLoss(output);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        Assert.True(losses[^1] < 0.5 * losses[0], $"loss went from {losses[0]} to {losses[^1]}");
    }

    [Fact]
    public void Autocast_RunsMatmulsInBf16AndKeepsFloat32Outputs_Bf16Scope()
    {
        using var scope = NewDisposeScope();
        using var model = OpenClipCheckpoint.Load(TinyClip.OpenAiWeights);
        using var images = Safetensors.Read(TinyClip.Images);
        using var golden = Safetensors.Read(TinyClip.Golden);

        ClipOutput mixed;
        using (Autocast.Enter(ScalarType.BFloat16)) mixed = model.forward(images["pixel_values"], golden["input_ids"]);
        using var _ = mixed;
        var loss = ContrastiveLoss(mixed);
        loss.backward();

        Assert.Null(Autocast.Current);
        Assert.Equal(ScalarType.Float32, mixed.ImageFeatures.dtype);
        Assert.Equal(ScalarType.Float32, mixed.TextFeatures.dtype);
        var diff = TinyClip.MaxAbsDiff(mixed.ImageFeatures, golden["image_features_normalized"]);
        Assert.InRange(diff, 1e-6, 0.05);   // bf16 rounding shows, but stays small
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.grad?.dtype ?? ScalarType.Float32));
        Assert.True(model.LogitScaleParameter.grad is not null);
    }
}
