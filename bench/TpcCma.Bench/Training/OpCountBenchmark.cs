using System.CommandLine;
using System.Text.Json;
using TorchSharp;
using TpcCma.Losses;
using TpcCma.Model;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Bench.Training;

/// <summary>
/// <c>tpccma-bench ops</c>: where a training step's per-op overhead goes, counted rather than timed (so it can be
/// read on a loaded machine): the tensors each part of the trainer's step creates (every TorchSharp call that
/// returns a tensor makes a native tensor and a managed handle; a count of them is the count of dispatched ops
/// plus handle-only wrappers such as <c>Parameter.grad</c>), and the step's autograd.grad calls.
/// The parts follow <see cref="Trainer"/>'s step: forward, objective (losses and the two gradient-share norms),
/// backward, gradient clipping, optimiser, and the per-step bookkeeping (finiteness flag).
/// </summary>
internal static class OpCountBenchmark
{
    public static int Run(ParseResult options)
    {
        var preset = options.GetValue<string>("--preset")!;
        if (options.GetValue<int>("--threads") is > 0 and var threads) set_num_threads(threads);   // counts do not depend on it
        int batch = options.GetValue<int>("--batch"), steps = options.GetValue<int>("--steps");
        var config = ClipConfig.Preset(preset);
        var spec = new TrainingSpec { Model = preset, BatchSize = batch, Steps = 1_000_000 };
        manual_seed(spec.Seed);
        using var model = new ClipModel(config);
        model.train();
        var plan = ParameterPlan.Create(model.named_parameters(), spec.Trainable, spec.LastK, spec.LogitScale);
        var trainable = plan.Trainable.Select(p => p.Parameter).ToArray();
        using var optimizer = plan.CreateOptimizer(spec);
        using var synthetic = new SyntheticBatchSource(4 * batch, batch, config.ImageResolution, config.ContextLength, config.VocabSize, spec.Seed);
        var objective = new TpcCmaObjective(spec.LambdaDist, spec.LambdaCov, spec.WMax);
        using var firstBadStep = zeros([], ScalarType.Int64);

        string[] parts = ["forward", "objective", "backward", "clip", "optimizer", "bookkeeping"];
        var counts = parts.ToDictionary(p => p, _ => new List<long>());
        var stats = DisposeScopeManager.Statistics;
        long Created() => stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var mark = Created();
            void Part(string name) { var now = Created(); counts[name].Add(now - mark); mark = now; }
            var data = synthetic.Batch(step);
            optimizer.zero_grad();
            mark = Created();
            var output = model.call(data.Pixels, data.TokenIds);
            Part("forward");
            var objectiveParts = objective.Compute(output.ImageFeatures, output.TextFeatures, output.LogitScale, 0.25);
            Part("objective");
            objectiveParts.Total.backward();
            Part("backward");
            var gradNorm = GradientClipping.ClipGlobalNorm(trainable, spec.GradClip);
            Part("clip");
            optimizer.step();
            using (no_grad()) model.LogitScaleParameter.clamp_(0, Math.Log(ClipLoss.MaxScale));
            Part("optimizer");
            var finite = objectiveParts.Total.isfinite().logical_and(gradNorm.isfinite());
            firstBadStep.copy_(where(finite.logical_not().logical_and(firstBadStep == 0), tensor(step + 1), firstBadStep));
            Part("bookkeeping");
        }
        var perStep = parts.ToDictionary(p => p, p => counts[p][^1]);   // the last step: warm, as every later one
        Console.WriteLine($"# ops {preset}, batch {batch}, {trainable.Length} trainable parameter tensors, tensors created per step (step {steps}):");
        foreach (var (part, count) in perStep) Console.WriteLine($"{part,-12} {count,6}");
        Console.WriteLine($"{"total",-12} {perStep.Values.Sum(),6}   autograd.grad calls per step: 2 (the objective's a and b)");
        if (options.GetValue<string>("--json") is { } path)
            File.WriteAllText(path, JsonSerializer.Serialize(new
            {
                suite = "ops", preset, batch, trainable_tensors = trainable.Length, tensors_created_per_step = perStep,
                total = perStep.Values.Sum(), autograd_grad_calls_per_step = 2,
            }, TrainingBenchmark.JsonOptions));
        return 0;
    }
}
