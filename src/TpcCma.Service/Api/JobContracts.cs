using System.Text.Json.Nodes;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Api;

/// <summary>
/// Body of <c>POST /v1/jobs</c>. <c>spec</c> is the job spec the <c>tpccma train</c> CLI also reads (snake_case, every
/// field optional with the defaults of docs/METHOD.md); <c>base_model</c> and <c>dataset</c> are ids of registered
/// resources. A missing <c>spec.seed</c> is generated and returned.
/// </summary>
public sealed record CreateJobRequest
{
    /// <example>align-emoji-0.5</example>
    public string? Name { get; init; }
    /// <summary>Worker queue (device kind); defaults to the service's first configured queue.</summary>
    /// <example>cpu</example>
    public string? Queue { get; init; }
    /// <summary>Model to start from (required for align and evaluate; pretrain starts from the spec's preset).</summary>
    public Guid? BaseModel { get; init; }
    /// <summary>Registered dataset to train and evaluate on.</summary>
    public Guid? Dataset { get; init; }
    /// <summary>The job spec: kind, alpha_target, steps, batch_size, lr, curriculum knobs, eval settings, seed...</summary>
    public JsonObject? Spec { get; init; }
}

/// <summary>Why a job failed.</summary>
public sealed record JobError(string Code, string Message);

/// <summary>A job as clients see it.</summary>
public sealed record JobResponse(
    Guid Id, string Name, string Kind, string Status, string? Phase, long Step, long TotalSteps, string Queue,
    Guid? BaseModel, Guid? Dataset, Guid? Sweep, long Seed, int Attempts,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    JobError? Error, JsonNode? Spec, JsonNode? Result)
{
    public string Object => "job";

    public static JobResponse From(TrainingJob j) => new(
        j.Id, j.Name, j.Kind, j.Status.Name(), j.Phase, j.Step, j.TotalSteps, j.Queue, j.BaseModelId, j.DatasetId, j.SweepId,
        j.Seed, j.Attempts, j.CreatedAt, j.StartedAt, j.FinishedAt,
        j.ErrorCode is null ? null : new JobError(j.ErrorCode, j.ErrorMessage ?? ""),
        ClientSpec(j.Spec), j.Result is null ? null : JsonNode.Parse(j.Result));

    /// <summary>
    /// The spec as the client gave it (with its defaults and seed). The model and dataset are named by the job's
    /// <c>base_model</c> and <c>dataset</c> ids; paths on a node are never shown (jobs stored before carried them here).
    /// </summary>
    private static JsonNode ClientSpec(string stored)
    {
        var spec = JsonNode.Parse(stored)!.AsObject();
        spec.Remove("init_weights");
        spec.Remove("dataset");
        return spec;
    }
}

/// <summary>One event of a job's timeline.</summary>
public sealed record JobEventResponse(long Id, string Kind, long? Step, string Message, JsonNode? Data, DateTimeOffset CreatedAt)
{
    public static JobEventResponse From(JobEvent e) => new(e.Id, e.Kind.Name(), e.Step, e.Message, e.Data is null ? null : JsonNode.Parse(e.Data), e.CreatedAt);
}

/// <summary>Curves of a job: for each metric name, its steps and values in step order.</summary>
public sealed record MetricSeries(string Name, long[] Steps, double[] Values);

/// <summary>A checkpoint a job wrote, with the formats it can be downloaded in.</summary>
public sealed record CheckpointResponse(long Step, string Phase, long SizeBytes, string Sha256, DateTimeOffset CreatedAt, string[] Formats);

/// <summary>A page of a list; when <c>has_more</c>, <c>next</c> is the cursor of the following page (<c>?cursor=</c>).</summary>
public sealed record ListResponse<T>(IReadOnlyList<T> Data, bool HasMore, string? Next = null)
{
    public string Object => "list";
}
