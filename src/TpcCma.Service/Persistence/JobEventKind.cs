using TpcCma.Curriculum;
using TpcCma.Training;

namespace TpcCma.Service.Persistence;

/// <summary>What a job event records. Stored and served under its <see cref="JobEventKinds.Name(JobEventKind)"/> (snake_case).</summary>
public enum JobEventKind
{
    /// <summary>The job's status changed (queued, running, cancelling, succeeded, cancelled, failed).</summary>
    Status,
    /// <summary>The reconciler handed a stranded job to the next worker.</summary>
    Requeued,
    /// <summary>A checkpoint was fetched from the shared artifact store before training resumed on this node.</summary>
    Fetched,
    Started,
    Resumed,
    /// <summary>A curriculum phase ended; the event's data has <c>from</c>, <c>to</c> and <c>reason</c>.</summary>
    Phase,
    Cancelled,
    /// <summary>The worker stopped for shutdown; the next worker resumes from the checkpoint.</summary>
    HandedBack,
    Diverged,
    Completed,
    Checkpoint,
    Evaluation,
    /// <summary>Policy skip on shards: the samples training left out, per epoch, and the first problems.</summary>
    Skipped,
}

/// <summary>The one place where event kinds and phases become the strings that the database, REST API and dashboard carry.</summary>
public static class JobEventKinds
{
    private static readonly Dictionary<JobEventKind, string> Names = Enum.GetValues<JobEventKind>()
        .ToDictionary(k => k, k => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(k.ToString()));
    private static readonly Dictionary<string, JobEventKind> ByName = Names.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    public static string Name(this JobEventKind kind) => Names[kind];

    /// <exception cref="InvalidDataException">The name is no known kind (a row written by a newer version, say).</exception>
    public static JobEventKind Parse(string name) =>
        ByName.TryGetValue(name, out var kind) ? kind : throw new InvalidDataException($"unknown job event kind '{name}'");

    /// <summary>
    /// The kind of a trainer's event. The trainer names its events in TpcCma.Core (<see cref="TrainingEvent"/>); one it
    /// did not name before is a programming error here, reported as such rather than stored under a wrong kind.
    /// </summary>
    public static JobEventKind FromTrainer(string trainerKind) =>
        ByName.TryGetValue(trainerKind, out var kind) && kind is JobEventKind.Started or JobEventKind.Resumed or JobEventKind.Phase
            or JobEventKind.Cancelled or JobEventKind.Diverged or JobEventKind.Completed
            ? kind
            : throw new InvalidOperationException($"the trainer reported an event of unknown kind '{trainerKind}'");

    /// <summary>A curriculum phase as jobs, checkpoints and reports name it (<c>anchor</c>, <c>ramp</c>, <c>consolidate</c>).</summary>
    public static string Name(this TrainingPhase phase) => phase.ToString().ToLowerInvariant();
}
