using TorchSharp;
using TorchSharp.Modules;
using TpcCma.Losses;
using TpcCma.Model;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Bench.Training;

/// <summary>
/// The baseline the trainer's overhead is measured against: a plain CLIP step with the trainer's optimiser and
/// clipping (forward, InfoNCE, backward, global-norm clip, AdamW, logit-scale clamp) and nothing else: no CMA
/// terms, no gradient-aware norms, no finiteness tracking, no logging, no observer.
/// </summary>
internal sealed class BareClipStep : IDisposable
{
    private readonly ClipModel model;
    private readonly Parameter[] trainable;
    private readonly AdamW optimizer;
    private readonly double gradClip;

    public BareClipStep(ClipModel model, TrainingSpec spec)
    {
        this.model = model;
        var plan = ParameterPlan.Create(model.named_parameters(), TrainableSet.All, 1, LogitScaleMode.Learned);
        trainable = plan.Trainable.Select(p => p.Parameter).ToArray();
        optimizer = plan.CreateOptimizer(spec);
        gradClip = spec.GradClip;
    }

    /// <summary>One step on batch <paramref name="position"/>; returns only when the device has finished it.</summary>
    public void Step(IBatchSource batches, long position)
    {
        using var scope = NewDisposeScope();
        var batch = batches.Batch(position);
        var device = model.LogitScaleParameter.device;
        optimizer.zero_grad();
        var output = model.call(batch.Pixels.to(device), batch.TokenIds.to(device));
        ClipLoss.Compute(output.ImageFeatures, output.TextFeatures, output.LogitScale).backward();
        GradientClipping.ClipGlobalNorm(trainable, gradClip);
        optimizer.step();
        using (no_grad()) model.LogitScaleParameter.clamp_(0, Math.Log(ClipLoss.MaxScale));
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);   // CUDA runs ahead of the host: time the work, not the launch
    }

    public void Dispose() => optimizer.Dispose();
}
