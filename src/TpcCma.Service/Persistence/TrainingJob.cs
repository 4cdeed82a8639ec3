namespace TpcCma.Service.Persistence;

/// <summary>What a validated create request resolved to; <see cref="TrainingJob.Create"/> turns it into a row.</summary>
public sealed record JobDraft(string Name, string Kind, string Spec, string Queue, long TotalSteps, long Seed,
    Guid? BaseModelId, Guid? DatasetId, Guid? SweepId = null, string? IdempotencyKey = null, string? RequestHash = null);

/// <summary>A fine-tuning, pre-training or evaluation job. Guards its own status transitions.</summary>
public sealed class TrainingJob
{
    private TrainingJob() { }

    public Guid Id { get; private set; }
    public Guid? OwnerKeyId { get; private set; }
    public string Name { get; private set; } = "";
    public string Kind { get; private set; } = "";
    /// <summary>The validated job spec as jsonb, exactly as the worker reads it.</summary>
    public string Spec { get; private set; } = "{}";
    public string Queue { get; private set; } = "cpu";
    public Guid? BaseModelId { get; private set; }
    public Guid? DatasetId { get; private set; }
    public long Seed { get; private set; }
    /// <summary>The sweep this job belongs to, if any.</summary>
    public Guid? SweepId { get; private set; }
    public string? IdempotencyKey { get; private set; }
    /// <summary>sha256 of the request body, to tell a repeat from a different body under the same idempotency key.</summary>
    public string? RequestHash { get; private set; }
    public JobStatus Status { get; private set; }
    public string? Phase { get; private set; }
    public long Step { get; private set; }
    public long TotalSteps { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? StartedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }
    public string? ErrorCode { get; private set; }
    public string? ErrorMessage { get; private set; }
    /// <summary>Final report (jsonb) of a succeeded job.</summary>
    public string? Result { get; private set; }
    public string? HangfireJobId { get; private set; }
    /// <summary>
    /// What the worker resolved the spec to on its node (jsonb: model and dataset paths, device, node), kept apart from
    /// the user's spec and never shown to clients: paths are a node's business.
    /// </summary>
    public string? Run { get; private set; }
    /// <summary>The worker that holds the job; a second start of the same job elsewhere waits for the lease to lapse.</summary>
    public string? LeaseOwner { get; private set; }
    public DateTimeOffset? LeaseExpiresAt { get; private set; }
    public int Attempts { get; private set; }

    public static TrainingJob Create(JobDraft draft, Guid? ownerKeyId, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now), Name = draft.Name, Kind = draft.Kind, Spec = draft.Spec, Queue = draft.Queue,
        TotalSteps = draft.TotalSteps, Seed = draft.Seed, BaseModelId = draft.BaseModelId, DatasetId = draft.DatasetId,
        SweepId = draft.SweepId, OwnerKeyId = ownerKeyId, IdempotencyKey = draft.IdempotencyKey, RequestHash = draft.RequestHash,
        Status = JobStatus.Queued, CreatedAt = now,
    };

    public void AttachHangfireId(string id) => HangfireJobId = id;

    /// <summary>Takes (or renews) the lease. Fails when another live worker holds it or the job has ended.</summary>
    public bool TryAcquireLease(string owner, DateTimeOffset now, TimeSpan duration)
    {
        if (Status.IsTerminal()) return false;
        if (LeaseOwner is not null && LeaseOwner != owner && LeaseExpiresAt > now) return false;
        if (LeaseOwner != owner) Attempts++;
        LeaseOwner = owner;
        LeaseExpiresAt = now + duration;
        return true;
    }

    /// <summary>Extends the lease <paramref name="owner"/> holds; fails when it no longer holds it or the job has ended.</summary>
    public bool TryRenewLease(string owner, DateTimeOffset now, TimeSpan duration)
    {
        if (Status.IsTerminal() || LeaseOwner != owner) return false;
        LeaseExpiresAt = now + duration;
        return true;
    }

    /// <summary>
    /// The reconciler's hand-over: the silent holder's lease is revoked and the job goes back to Hangfire under a new
    /// id. The job keeps its status (a running job resumes from its checkpoint).
    /// </summary>
    public void HandOver(string hangfireJobId)
    {
        if (Status.IsTerminal()) throw new InvalidOperationException($"job {Id} has already ended ({Status.Name()})");
        LeaseOwner = null;
        LeaseExpiresAt = null;
        HangfireJobId = hangfireJobId;
    }

    /// <summary>Whether a worker holds the job now (its lease has not lapsed).</summary>
    public bool IsHeld(DateTimeOffset now) => LeaseOwner is not null && LeaseExpiresAt > now;

    public void ReleaseLease(string owner)
    {
        if (LeaseOwner != owner) return;
        LeaseOwner = null;
        LeaseExpiresAt = null;
    }

    /// <summary>Queued -> running; running stays running when a restarted worker resumes it.</summary>
    public void MarkRunning(DateTimeOffset now)
    {
        if (Status is not (JobStatus.Queued or JobStatus.Running or JobStatus.Cancelling))
            throw new InvalidOperationException($"job {Id} cannot start from status {Status.Name()}");
        if (Status == JobStatus.Queued) Status = JobStatus.Running;
        StartedAt ??= now;
    }

    public void RecordRun(string run) => Run = run;

    public void ReportProgress(long step, string? phase)
    {
        Step = Math.Max(Step, step);
        Phase = phase ?? Phase;
    }

    /// <summary>Resuming from a checkpoint rewinds the visible step to the checkpoint's.</summary>
    public void RewindTo(long step) => Step = step;

    public void MarkSucceeded(string result, DateTimeOffset now)
    {
        if (Status is not (JobStatus.Running or JobStatus.Cancelling))
            throw new InvalidOperationException($"job {Id} cannot succeed from status {Status.Name()}");
        Status = JobStatus.Succeeded;
        Result = result;
        FinishedAt = now;
        LeaseOwner = null;
        LeaseExpiresAt = null;
    }

    public void MarkFailed(string code, string message, DateTimeOffset now)
    {
        if (Status.IsTerminal()) throw new InvalidOperationException($"job {Id} has already ended ({Status.Name()})");
        Status = JobStatus.Failed;
        ErrorCode = code;
        ErrorMessage = message;
        FinishedAt = now;
        LeaseOwner = null;
        LeaseExpiresAt = null;
    }

    /// <summary>A queued job is cancelled at once; a running one is asked to stop and becomes cancelled when it does.</summary>
    public void RequestCancel(DateTimeOffset now)
    {
        if (Status.IsTerminal()) throw new InvalidOperationException($"job {Id} has already ended ({Status.Name()})");
        if (Status == JobStatus.Queued) MarkCancelled(now);
        else Status = JobStatus.Cancelling;
    }

    public void MarkCancelled(DateTimeOffset now)
    {
        if (Status.IsTerminal()) throw new InvalidOperationException($"job {Id} has already ended ({Status.Name()})");
        Status = JobStatus.Cancelled;
        FinishedAt = now;
        LeaseOwner = null;
        LeaseExpiresAt = null;
    }
}
