using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp.Modules;
using TpcCma.Checkpoints;
using TpcCma.Curriculum;
using TpcCma.Diagnostics;
using TpcCma.Model;
using static TorchSharp.torch;

namespace TpcCma.Training;

/// <summary>
/// Everything besides weights and optimiser state that a resumed run needs, written as <c>meta.json</c>.
/// <see cref="Step"/> optimiser steps are done; <see cref="Curriculum"/> and <see cref="PendingClipGradNorm"/>
/// are the inputs of the curriculum's decision for step <see cref="Step"/>. The loader position is not stored:
/// the trainer reads batch <c>p</c> at step <c>p</c>, so <see cref="Step"/> is it.
/// </summary>
// Skip, not Disallow, for this type only: meta.json written by earlier versions carries a loader_position
// (always equal to step) that must not stop those runs from resuming. The nested spec stays strict.
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record CheckpointMeta(
    long Step, TrainingPhase Phase, TrainingSpec Spec, CurriculumState Curriculum, double? PendingClipGradNorm,
    IReadOnlyList<PhaseTransition> Transitions)
{
    /// <summary>The torch RNG state at the checkpoint (base64); set by <see cref="CheckpointStore.Save"/>.</summary>
    public string RngState { get; init; } = "";

    /// <summary>The sha256 of the checkpoint's weights file; set by <see cref="CheckpointStore.Save"/>.</summary>
    public string WeightsSha256 { get; init; } = "";
}

/// <summary>
/// Checkpoints of one run under a folder: <c>step_000500/</c> holding <c>model.safetensors</c> (OpenAI key
/// layout, loadable by <see cref="OpenClipCheckpoint"/>), <c>optim.dat</c> and <c>meta.json</c>, then
/// <c>latest.json</c> naming the newest. Each step folder is written under a temporary name and renamed, and
/// <c>latest.json</c> is replaced last, so a crash at any point leaves the previous checkpoint usable.
/// </summary>
public sealed class CheckpointStore(string root)
{
    public const string WeightsFile = "model.safetensors";
    public const string OptimizerFile = "optim.dat";
    public const string MetaFile = "meta.json";
    public const string LatestFile = "latest.json";

    private sealed record Latest(long Step, string Directory);

    public string Root { get; } = root;

    public static string StepDirectoryName(long step) => "step_" + step.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>The text of <c>latest.json</c> naming the checkpoint of <paramref name="step"/>.</summary>
    public static string LatestJson(long step) => JsonSerializer.Serialize(new Latest(step, StepDirectoryName(step)), TrainingSpec.JsonOptions);

    /// <summary>The step a <c>latest.json</c> text names; <paramref name="source"/> says where it came from in the error.</summary>
    public static long LatestStep(string json, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.GetProperty("step").GetInt64();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source} is not a checkpoint pointer ({{\"step\": N, \"directory\": \"step_...\"}}): {ex.Message}", ex);
        }
    }

    /// <summary>Writes a checkpoint; returns <paramref name="meta"/> with the RNG state and the weights' hash filled in.</summary>
    public CheckpointMeta Save(ClipModel model, OptimizerHelper optimizer, CheckpointMeta meta)
    {
        Directory.CreateDirectory(Root);
        var name = StepDirectoryName(meta.Step);
        var final = Path.Combine(Root, name);
        var temporary = Path.Combine(Root, $".{name}.tmp");
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);   // left by a crash
        Directory.CreateDirectory(temporary);

        using (NewDisposeScope())
            OpenClipCheckpoint.Save(model, Path.Combine(temporary, WeightsFile));
        optimizer.save_state_dict(Path.Combine(temporary, OptimizerFile));
        using (var rng = random.get_rng_state())
            meta = meta with { RngState = Convert.ToBase64String(rng.bytes.ToArray()), WeightsSha256 = Sha256(Path.Combine(temporary, WeightsFile)) };
        FaultInjection.KillAt("checkpoint-write", meta.Step);   // weights on disk, meta and rename not yet: a torn checkpoint
        File.WriteAllText(Path.Combine(temporary, MetaFile), JsonSerializer.Serialize(meta, TrainingSpec.JsonOptions));

        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);   // the same step written again
        Directory.Move(temporary, final);
        WriteAtomically(Path.Combine(Root, LatestFile), LatestJson(meta.Step));
        return meta;
    }

    /// <summary>The newest checkpoint's metadata, or null when there is none.</summary>
    public CheckpointMeta? ReadLatest()
    {
        var latestPath = Path.Combine(Root, LatestFile);
        if (!File.Exists(latestPath)) return null;
        var latest = JsonSerializer.Deserialize<Latest>(File.ReadAllText(latestPath), TrainingSpec.JsonOptions)
            ?? throw new InvalidDataException($"{latestPath} is empty");
        var metaPath = Path.Combine(Root, latest.Directory, MetaFile);
        return JsonSerializer.Deserialize<CheckpointMeta>(File.ReadAllText(metaPath), TrainingSpec.JsonOptions)
            ?? throw new InvalidDataException($"{metaPath} is empty");
    }

    /// <summary>Loads the newest checkpoint into <paramref name="model"/> and <paramref name="optimizer"/> and restores the RNG.</summary>
    /// <exception cref="InvalidDataException">The weights do not match their recorded sha256 or do not fit the model.</exception>
    public CheckpointMeta? RestoreLatest(ClipModel model, OptimizerHelper optimizer)
    {
        if (ReadLatest() is not { } meta) return null;
        var folder = Path.Combine(Root, StepDirectoryName(meta.Step));
        var weights = Path.Combine(folder, WeightsFile);
        var actual = Sha256(weights);
        if (actual != meta.WeightsSha256)
            throw new InvalidDataException($"{weights}: sha256 {actual} differs from {meta.WeightsSha256} recorded in {MetaFile}");
        using (var file = Safetensors.Read(weights))
            StateDict.LoadStrict(model, file.Tensors, weights);
        optimizer.load_state_dict(Path.Combine(folder, OptimizerFile));
        using (var rng = tensor(Convert.FromBase64String(meta.RngState)))
            random.set_rng_state(rng);
        return meta;
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}
