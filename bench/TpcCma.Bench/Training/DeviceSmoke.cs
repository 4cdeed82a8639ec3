using System.CommandLine;
using TorchSharp;
using System.Text.Json;
using TpcCma.Losses;
using TpcCma.Model;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Bench.Training;

/// <summary>
/// <c>tpccma-bench smoke</c>: the first thing run on a new device. One forward and backward of a preset (TPC-CMA
/// objective, alpha 0.25) on the device and on the CPU from the same initial weights and batch; the features,
/// the loss and every gradient must agree. Exit code 0 only when float32 agrees within the stated tolerance;
/// the bf16 autocast pass is reported beside it against its own, looser tolerance.
/// </summary>
internal static class DeviceSmoke
{
    // float32 on CUDA differs from the CPU by summation order, and cuDNN may run the patch convolution in TF32
    // (10-bit mantissa, relative 1e-3): 5e-3 relative covers both. bf16 (8-bit mantissa) through 4 blocks: 5e-2.
    private const double Fp32Tolerance = 5e-3;
    private const double Bf16Tolerance = 5e-2;

    private sealed record Pass(double LossRelative, double FeatureMaxAbs, double GradRelative, double Tolerance, bool Ok);

    public static int Run(ParseResult options)
    {
        var preset = options.GetValue<string>("--preset")!;
        var batch = options.GetValue<int>("--batch");
        var device = DeviceOptions.Parse(options.GetValue<string>("--device")!);
        var config = ClipConfig.Preset(preset);
        using var batches = new SyntheticBatchSource(batch, batch, config.ImageResolution, config.ContextLength, config.VocabSize, seed: 3);

        var reference = Step(config, batches, DeviceOptions.Cpu.Device, null);
        var fp32 = Compare(reference, Step(config, batches, device.Device, null), Fp32Tolerance);
        var bf16 = Compare(reference, Step(config, batches, device.Device, ScalarType.BFloat16), Bf16Tolerance);
        foreach (var (name, pass) in new[] { ("fp32", fp32), ("bf16", bf16) })
            Console.WriteLine(TrainingBenchmark.Invariant(
                $"smoke {preset} batch {batch} {device.DeviceName} {name} vs cpu fp32: loss rel {pass.LossRelative:E2}, features max abs {pass.FeatureMaxAbs:E2}, grads rel {pass.GradRelative:E2} (tolerance {pass.Tolerance:E0}) {(pass.Ok ? "OK" : "FAILED")}"));
        if (options.GetValue<string>("--json") is { } path)
            File.WriteAllText(path, JsonSerializer.Serialize(new
            {
                suite = "smoke", preset, batch, device = device.DeviceName, cuda = cuda.is_available(), fp32, bf16,
            }, TrainingBenchmark.JsonOptions));
        return fp32.Ok ? 0 : 1;
    }

    private sealed record StepResult(double Loss, float[] Features, float[] Grads);

    private static StepResult Step(ClipConfig config, SyntheticBatchSource batches, Device device, ScalarType? autocast)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);                                       // the same initial weights on every pass
        using var model = new ClipModel(config);
        model.to(device).train();
        var data = batches.Batch(0);
        var objective = new TpcCmaObjective(1.0, 0.0, 100.0);
        using (Autocast.Enter(autocast))
        {
            var output = model.call(data.Pixels.to(device), data.TokenIds.to(device));
            var parts = objective.Compute(output.ImageFeatures, output.TextFeatures, output.LogitScale, 0.25);
            parts.Total.backward();
            var features = cat([output.ImageFeatures, output.TextFeatures], 1).detach().cpu().data<float>().ToArray();
            var grads = cat(model.parameters().Where(p => p.grad is not null).Select(p => p.grad!.flatten()).ToArray()).cpu().data<float>().ToArray();
            return new StepResult(parts.Total.cpu().item<float>(), features, grads);
        }
    }

    private static Pass Compare(StepResult cpu, StepResult other, double tolerance)
    {
        var loss = Math.Abs(cpu.Loss - other.Loss) / Math.Max(Math.Abs(cpu.Loss), 1e-12);
        var features = cpu.Features.Zip(other.Features).Max(p => (double)Math.Abs(p.First - p.Second));
        double diff = 0, norm = 0;
        foreach (var (a, b) in cpu.Grads.Zip(other.Grads)) { diff += (double)(a - b) * (a - b); norm += (double)a * a; }
        var grads = Math.Sqrt(diff / Math.Max(norm, 1e-30));
        return new Pass(loss, features, grads, tolerance, loss <= tolerance && features <= tolerance && grads <= tolerance);
    }
}
