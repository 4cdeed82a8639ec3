namespace TpcCma.Service.Hosting;

/// <summary>
/// The <c>Leases</c> section: how often a worker proves it still runs a job, when a silent holder counts as dead, and
/// how often the reconciler looks for stranded jobs. Independent of Hangfire's invisibility timeout, which only
/// governs when Hangfire itself would fetch a dead worker's job again.
/// </summary>
public sealed class LeaseSettings
{
    public const string Section = "Leases";

    /// <summary>A running job renews its lease this often.</summary>
    public double HeartbeatSeconds { get; set; } = 5;

    /// <summary>A holder silent this long is dead: its lease lapses and the reconciler hands the job to another worker.</summary>
    public double DeadAfterSeconds { get; set; } = 30;

    /// <summary>How often each node's reconciler looks for stranded jobs.</summary>
    public double ReconcileEverySeconds { get; set; } = 5;

    /// <summary>A queued job younger than this may still be on its way into Hangfire (the API stores, then enqueues).</summary>
    public double EnqueueGraceSeconds { get; set; } = 10;

    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);
    public TimeSpan DeadAfter => TimeSpan.FromSeconds(DeadAfterSeconds);
    public TimeSpan ReconcileEvery => TimeSpan.FromSeconds(ReconcileEverySeconds);
    public TimeSpan EnqueueGrace => TimeSpan.FromSeconds(EnqueueGraceSeconds);

    /// <summary>The problem with these settings, or null when they make sense.</summary>
    public string? Problem() =>
        HeartbeatSeconds <= 0 || DeadAfterSeconds <= 0 || ReconcileEverySeconds <= 0 || EnqueueGraceSeconds < 0
            ? "Leases: HeartbeatSeconds, DeadAfterSeconds and ReconcileEverySeconds must be positive, EnqueueGraceSeconds not negative"
            : DeadAfterSeconds < 2 * HeartbeatSeconds
                ? $"Leases:DeadAfterSeconds ({DeadAfterSeconds}) must be at least twice Leases:HeartbeatSeconds ({HeartbeatSeconds}), or one late heartbeat kills a live holder"
                : null;
}
