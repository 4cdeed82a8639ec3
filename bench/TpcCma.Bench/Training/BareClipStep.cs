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
    private readonly ScalarType? autocast;

    /// <param name="autocast">bf16 matrix products, in one autocast scope per step as the trainer does; null: float32.</param>
    public BareClipStep(ClipModel model, TrainingSpec spec, ScalarType? autocast = null)
    {
        this.model = model;
        this.autocast = autocast;
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
        using (Autocast.Enter(autocast))
        {
            var output = model.call(batch.Pixels.to(device), batch.TokenIds.to(device));
            ClipLoss.Compute(output.ImageFeatures, output.TextFeatures, output.LogitScale).backward();
        }
        GradientClipping.ClipGlobalNorm(trainable, gradClip);
        optimizer.step();
        using (no_grad()) model.LogitScaleParameter.clamp_(0, Math.Log(ClipLoss.MaxScale));
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);   // CUDA runs ahead of the host: time the work, not the launch
    }

    /// <summary>The same step with a clock read between its parts (CPU only: CUDA would need a sync at each).</summary>
    /// <returns>Milliseconds of forward (with the loss), backward, clipping and the optimiser step.</returns>
    public double[] StepByPart(IBatchSource batches, long position)
    {
        using var scope = NewDisposeScope();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var marks = new List<double>();
        void Mark() => marks.Add(watch.Elapsed.TotalMilliseconds);
        var batch = batches.Batch(position);
        optimizer.zero_grad();
        var output = model.call(batch.Pixels, batch.TokenIds);
        var loss = ClipLoss.Compute(output.ImageFeatures, output.TextFeatures, output.LogitScale);
        Mark();
        loss.backward();
        Mark();
        GradientClipping.ClipGlobalNorm(trainable, gradClip);
        Mark();
        optimizer.step();
        using (no_grad()) model.LogitScaleParameter.clamp_(0, Math.Log(ClipLoss.MaxScale));
        Mark();
        return [marks[0], marks[1] - marks[0], marks[2] - marks[1], marks[3] - marks[2]];
    }

    public void Dispose() => optimizer.Dispose();
}
