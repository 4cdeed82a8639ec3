using System.Text.Json.Nodes;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Api;

/// <summary>
/// An operation as clients see it: <c>state</c> (queued, running, succeeded, failed, cancelled), <c>progress</c> 0..1
/// and a <c>message</c> (what happens now, or why it failed), the <c>result</c> of a succeeded one (e.g.
/// <c>{"model": id}</c>) and the <c>errors</c> found (<c>total</c>, <c>counts</c> by kind and the first
/// <c>problems</c> with their <c>location</c> and <c>message</c>).
/// </summary>
public sealed record OperationResponse(
    Guid Id, string Kind, string State, double Progress, string? Message, JsonNode? Result, JsonNode? Errors, int Attempts,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt)
{
    public string Object => "operation";

    public static OperationResponse From(Operation o) => new(
        o.Id, o.Kind, o.State.Name(), o.Progress, o.Message, o.Result is null ? null : JsonNode.Parse(o.Result),
        o.Errors is null ? null : JsonNode.Parse(o.Errors), o.Attempts, o.CreatedAt, o.StartedAt, o.FinishedAt);
}
