using System.Collections.Immutable;
using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using TpcCma.Curriculum;
using TpcCma.Losses;
using TpcCma.Model;
using static TorchSharp.torch;

namespace TpcCma.Training;

/// <summary>How a run ended normally: every step done, the final checkpoint written.</summary>
public sealed record TrainingResult(
    long Steps, IReadOnlyList<PhaseTransition> Transitions, IReadOnlyDictionary<string, double>? LastMetrics, CheckpointInfo? LastCheckpoint);

/// <summary>The loss or the gradient norm stopped being finite; checkpoints from before <see cref="Step"/> are intact.</summary>
public sealed class TrainingDivergedException(long step)
    : Exception($"diverged at step {step}: the loss or the gradient norm is not finite")
{
    public long Step { get; } = step;
}

/// <summary>
/// Fine-tunes (or pre-trains) a <see cref="ClipModel"/> with the TPC-CMA objective and three-phase curriculum of
/// docs/METHOD.md. Synchronous on one thread: one dispose scope per step, scalars leave the device only on
/// logging steps (and, in phase 1, the gradient norm the plateau test needs). Resumes from the newest
/// checkpoint in its folder, bit-identically on CPU at a fixed thread count.
/// </summary>
public sealed class Trainer : IDisposable
{
    /// <summary>Device-side scalars of a logging step, in the order <see cref="Step"/> stacks them.</summary>
    private static readonly string[] DeviceMetrics = ["loss", "clip", "cent", "dist", "cov", "cma", "a", "b", "w", "grad_norm", "logit_scale"];
    private static readonly double MaxLogLogitScale = Math.Log(ClipLoss.MaxScale);

    private sealed record RunState(long Step, CurriculumState Curriculum, double? PendingClipGradNorm, ImmutableList<PhaseTransition> Transitions);

    private readonly TrainingSpec spec;
    private readonly ClipModel model;
    private readonly ClipModel? teacher;   // clip_refine, align_clip: a frozen copy of the model as handed in (the run's starting point)
    private readonly IBatchSource batches;
    private readonly ITrainingObserver observer;
    private readonly CheckpointStore checkpoints;
    private readonly TpcCmaObjective objective;
    private readonly Parameter[] trainable;
    private readonly AdamW optimizer;
    private readonly Tensor firstBadStep;   // int64 0-d on the model's device; 0 while every step was finite
    private readonly ScalarType? autocast;  // bf16 matrix products when the spec's precision says so
    private long lastSavedStep = -1;
    private CheckpointInfo? lastCheckpoint;

    /// <param name="device">Where the model is and its default precision (a spec without <c>precision</c> takes it);
    /// null: the model's own device, bf16 by default on CUDA.</param>
    /// <exception cref="ArgumentException">The spec is invalid (every field named), or does not describe training.</exception>
    public Trainer(TrainingSpec spec, ClipModel model, IBatchSource batches, string outputDirectory, ITrainingObserver? observer = null,
        DeviceOptions? device = null)
    {
        if (spec.Validate() is { Count: > 0 } errors)
            throw new ArgumentException("invalid job spec: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        if (spec.Kind == JobKind.Evaluate) throw new ArgumentException("a job of kind evaluate does not train");
        if (batches.BatchSize != spec.BatchSize) throw new ArgumentException($"the batch source yields {batches.BatchSize} pairs, the spec says batch_size {spec.BatchSize}");
        (this.spec, this.model, this.batches) = (spec, model, batches);
        this.observer = observer ?? NullObserver.Instance;
        checkpoints = new CheckpointStore(outputDirectory);
        objective = new TpcCmaObjective(spec.Objective);
        // Copied before any checkpoint is restored (Run does that), so a resumed run reads the same starting model,
        // provided it is handed the same one (the job's init weights under its seed, as TrainingRun loads them).
        if (spec.Objective.NeedsTeacher) teacher = FrozenCopy(model);
        if (spec.LogitScale == LogitScaleMode.Fixed)
            using (no_grad()) model.LogitScaleParameter.fill_(Math.Log(spec.FixedLogitScale));
        var plan = ParameterPlan.Create(model.named_parameters(), spec.Trainable, spec.LastK, spec.LogitScale);
        var frozen = plan.Frozen.ToHashSet();
        foreach (var (name, parameter) in model.named_parameters()) parameter.requires_grad = !frozen.Contains(name);
        trainable = plan.Trainable.Select(p => p.Parameter).ToArray();
        optimizer = plan.CreateOptimizer(spec);
        firstBadStep = zeros([], ScalarType.Int64, model.LogitScaleParameter.device);
        autocast = (device ?? DeviceOptions.Of(model.LogitScaleParameter)).AutocastFor(spec.Precision);
    }

    /// <summary>The dtype the steps' matrix products run in (null: float32).</summary>
    public ScalarType? Autocast => autocast;

    /// <summary>Runs (or resumes) to <c>spec.steps</c>. See docs/METHOD.md for the objective and the curriculum.</summary>
    /// <exception cref="OperationCanceledException">Cancelled; a checkpoint of the last completed step was written first.</exception>
    /// <exception cref="TrainingDivergedException">A non-finite loss; no checkpoint was written after it.</exception>
    public TrainingResult Run(CancellationToken ct)
    {
        model.train();
        var run = Resume();
        var (curriculum, lrSchedule) = (spec.Curriculum, spec.LrSchedule);
        IReadOnlyDictionary<string, double>? lastMetrics = null;
        while (run.Step < spec.Steps)
        {
            if (ct.IsCancellationRequested)
            {
                Checkpoint(run, "cancelled");
                observer.OnEvent(new TrainingEvent(run.Step, "cancelled", $"cancelled after {run.Step} steps"));
                ct.ThrowIfCancellationRequested();
            }
            var point = ThreePhaseCurriculum.Next(curriculum, run.Curriculum, run.Step, new CurriculumSignals(run.PendingClipGradNorm));
            if (point.Transition is { } transition)
            {
                Checkpoint(run, "phase boundary");   // the model as the finished phase left it
                observer.OnEvent(new TrainingEvent(run.Step, "phase", $"{transition.From} -> {transition.To} ({transition.Reason})", transition));
                run = run with { Transitions = run.Transitions.Add(transition) };
            }
            long? decayStart = point.Phase == TrainingPhase.Consolidate ? point.State.PhaseStart : null;
            var lr = lrSchedule.At(run.Step, decayStart);
            var done = run.Step + 1;
            var logNow = done % spec.LogEvery == 0 || done == spec.Steps;
            var (scalars, clipGradNorm) = Step(run.Step, point.Alpha, lr, logNow, point.Phase == TrainingPhase.Anchor);
            run = new RunState(done, point.State, clipGradNorm, run.Transitions);
            if (scalars is not null)
            {
                ThrowIfDiverged();
                lastMetrics = Describe(scalars, point, lr);
                observer.OnMetrics(done, point.Phase, lastMetrics);
            }
            if (done % spec.CheckpointEvery == 0) Checkpoint(run, "periodic");
        }
        Checkpoint(run, "final");
        observer.OnEvent(new TrainingEvent(run.Step, "completed", $"completed {run.Step} steps"));
        return new TrainingResult(run.Step, run.Transitions, lastMetrics, lastCheckpoint);
    }

    /// <summary>One optimiser step in its own dispose scope. Returns the logged scalars (log steps only) and the phase-1 signal.</summary>
    private (double[]? Scalars, double? ClipGradNorm) Step(long step, double alpha, double lr, bool logNow, bool readGradNorm)
    {
        using var scope = NewDisposeScope();
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        var batch = batches.Batch(step);                                          // loader position = step
        var device = model.LogitScaleParameter.device;
        optimizer.zero_grad();
        ObjectiveParts parts;
        ClipOutput output;
        // One autocast scope per step: each weight is cast once, and the copies go before optimizer.step() moves
        // the weights. The features leave the model in float32, so the objective (loss, a, b, w) is float32.
        using (Model.Autocast.Enter(autocast))
        {
            output = model.call(batch.Pixels.to(device), batch.TokenIds.to(device));   // x, y: [B, E] normalised; scale: 0-d
            parts = objective.Compute(output.ImageFeatures, output.TextFeatures, output.LogitScale, alpha, Teach(batch.Pixels, batch.TokenIds, device));
            parts.Total.backward();
        }
        var gradNorm = GradientClipping.ClipGlobalNorm(trainable, spec.GradClip);  // before clipping
        optimizer.step();
        if (spec.LogitScale == LogitScaleMode.Learned)
            using (no_grad()) model.LogitScaleParameter.clamp_(0, MaxLogLogitScale);
        var finite = parts.Total.isfinite().logical_and(gradNorm.isfinite());
        firstBadStep.copy_(where(finite.logical_not().logical_and(firstBadStep == 0), tensor(step + 1, device: firstBadStep.device), firstBadStep));
        // In phase 1 alpha = 0, so this is exactly ||grad L_clip||, the plateau signal: read every step there.
        double? clipGradNorm = readGradNorm ? gradNorm.item<float>() : null;
        if (!logNow) return (null, clipGradNorm);
        var all = stack([parts.Total, parts.Clip, parts.Centroid, parts.Distribution, parts.Covariance, parts.Cma,
            parts.ClipPull, parts.CmaPull, parts.Weight, gradNorm, output.LogitScale]).detach();
        return (all.to(ScalarType.Float64).cpu().data<double>().ToArray(), clipGradNorm);   // one device sync
    }

    // The frozen model's view of the batch, without a graph; null unless the method reads one.
    private TeacherView? Teach(Tensor pixels, Tensor tokenIds, Device device)
    {
        if (teacher is null) return null;
        using (no_grad())
        {
            // align_clip reads only the captions' features: the frozen image tower need not run.
            if (spec.Method == AlignMethod.AlignClip)
                return TeacherView.CaptionsOnly(nn.functional.normalize(teacher.encode_text(tokenIds.to(device)), p: 2, dim: -1));
            var seen = teacher.call(pixels.to(device), tokenIds.to(device));
            return new TeacherView(seen.ImageFeatures, seen.TextFeatures, seen.LogitScale);
        }
    }

    private static ClipModel FrozenCopy(ClipModel model)
    {
        // Building a model draws its initialisation from the global generator; the run's draws must not see that.
        using var rng = random.get_rng_state();
        var copy = new ClipModel(model.Config);
        random.set_rng_state(rng);
        copy.to(model.LogitScaleParameter.device);
        using (no_grad())
        {
            var source = model.state_dict();
            foreach (var (name, tensor) in copy.state_dict()) tensor.copy_(source[name]);
        }
        foreach (var (_, parameter) in copy.named_parameters()) parameter.requires_grad = false;
        copy.eval();
        return copy;
    }

    private static Dictionary<string, double> Describe(double[] scalars, CurriculumPoint point, double lr)
    {
        var metrics = DeviceMetrics.Zip(scalars).ToDictionary(p => p.First, p => p.Second);
        metrics["alpha"] = point.Alpha;
        metrics["lr"] = lr;
        metrics["phase"] = (int)point.Phase;
        return metrics;
    }

    private RunState Resume()
    {
        var meta = checkpoints.RestoreLatest(model, optimizer);
        if (meta is null)
        {
            observer.OnEvent(new TrainingEvent(0, "started", $"training {trainable.Sum(p => p.numel())} parameters for {spec.Steps} steps"));
            return new RunState(0, CurriculumState.Start, null, []);
        }
        if (DifferingFields(meta.Spec, spec) is { Count: > 0 } fields)
            throw new InvalidDataException($"the checkpoint in {checkpoints.Root} was written for another spec (differs in {string.Join(", ", fields)})");
        lastSavedStep = meta.Step;
        lastCheckpoint = new CheckpointInfo(meta.Step, meta.Phase,
            Path.Combine(checkpoints.Root, CheckpointStore.StepDirectoryName(meta.Step)), meta.WeightsSha256, "resumed");
        observer.OnEvent(new TrainingEvent(meta.Step, "resumed", $"resumed from {CheckpointStore.StepDirectoryName(meta.Step)}"));
        return new RunState(meta.Step, meta.Curriculum, meta.PendingClipGradNorm, [.. meta.Transitions]);
    }

    // Logging, checkpointing and evaluation settings may change on resume; anything that shapes the run may not.
    private static List<string> DifferingFields(TrainingSpec saved, TrainingSpec current)
    {
        var a = JsonNode.Parse(saved.ToJson())!.AsObject();
        var b = JsonNode.Parse(current.ToJson())!.AsObject();
        string[] free = ["log_every", "checkpoint_every", "eval"];
        return a.Select(kv => kv.Key).Union(b.Select(kv => kv.Key))
            .Where(k => !free.Contains(k) && !JsonNode.DeepEquals(a[k], b[k])).ToList();
    }

    private void Checkpoint(RunState run, string reason)
    {
        if (run.Step == lastSavedStep) return;
        ThrowIfDiverged();
        var meta = checkpoints.Save(model, optimizer, new CheckpointMeta(run.Step, run.Curriculum.Phase, spec, run.Curriculum,
            run.PendingClipGradNorm, run.Transitions));
        lastSavedStep = run.Step;
        lastCheckpoint = new CheckpointInfo(run.Step, run.Curriculum.Phase,
            Path.Combine(checkpoints.Root, CheckpointStore.StepDirectoryName(run.Step)), meta.WeightsSha256, reason);
        observer.OnCheckpoint(lastCheckpoint);
    }

    private void ThrowIfDiverged()
    {
        var bad = firstBadStep.item<long>();
        if (bad == 0) return;
        observer.OnEvent(new TrainingEvent(bad, "diverged", $"diverged at step {bad}"));
        throw new TrainingDivergedException(bad);
    }

    public void Dispose()
    {
        optimizer.Dispose();
        firstBadStep.Dispose();
        teacher?.Dispose();
    }

    private sealed class NullObserver : ITrainingObserver
    {
        public static NullObserver Instance { get; } = new();
        public void OnEvent(TrainingEvent trainingEvent) { }
        public void OnMetrics(long step, IReadOnlyDictionary<string, double> metrics) { }
        public void OnCheckpoint(CheckpointInfo checkpoint) { }
    }
}
