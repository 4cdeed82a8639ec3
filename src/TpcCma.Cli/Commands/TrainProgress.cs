using System.Diagnostics;
using System.Globalization;
using TpcCma.Evaluation;
using TpcCma.Runs;
using TpcCma.Training;

namespace TpcCma.Cli.Commands;

/// <summary>Prints a run's events, logging steps and checkpoints as one line each.</summary>
internal sealed class TrainProgress(TextWriter output, long totalSteps) : IRunObserver
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private long firstStep = -1;

    public void OnEvent(TrainingEvent e) => output.WriteLine($"[{e.Kind}] step {e.Step}: {e.Message}");

    public void OnMetrics(long step, IReadOnlyDictionary<string, double> m)
    {
        if (firstStep < 0) { firstStep = step; clock.Restart(); }
        var rate = step > firstStep ? ((step - firstStep) / clock.Elapsed.TotalSeconds).ToString("F2", CultureInfo.InvariantCulture) : "-";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"step {step}/{totalSteps} phase {m["phase"]} alpha {m["alpha"]:F3} loss {m["loss"]:F4} clip {m["clip"]:F4} " +
            $"cent {m["cent"]:F4} dist {m["dist"]:F4} a {m["a"]:G3} b {m["b"]:G3} w {m["w"]:G3} lr {m["lr"]:E2} " +
            $"grad {m["grad_norm"]:G3} scale {m["logit_scale"]:F1} ({rate} steps/s)"));
    }

    public void OnEvaluation(long step, string label, EvaluationReport report) => output.WriteLine($"[evaluation] step {step}: {Describe(label, report)}");

    /// <summary>One line per report: the three gaps and whichever task metrics ran.</summary>
    public static string Describe(string label, EvaluationReport r) =>
        FormattableString.Invariant($"{label}/{r.Split} ({r.Pairs} pairs): gap raw {r.Gaps.Raw:F3} centroid {r.Gaps.Centroid:F3} distribution {r.Gaps.Distribution:F3}") +
        (r.ZeroShot is { } z ? FormattableString.Invariant($", zero-shot {z.Top1:P1}") : "") +
        (r.JointClustering is { } c ? FormattableString.Invariant($", ARI {c.Ari:F3}") : "") +
        (r.Captioning is { } cap ? FormattableString.Invariant($", CIDEr i2t {cap.ImageToText:F3} (t2t {cap.TextToText:F3})") : "");

    public void OnCheckpoint(CheckpointInfo c) => output.WriteLine($"[checkpoint] {c.Directory} ({c.Reason}, sha256 {c.WeightsSha256[..12]})");
}
