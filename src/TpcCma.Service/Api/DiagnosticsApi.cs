using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using TpcCma.Service.Jobs;

namespace TpcCma.Service.Api;

/// <summary><c>/v1/diagnostics</c>: probe a worker queue end to end.</summary>
public static class DiagnosticsApi
{
    public sealed record ProbeAccepted(string Id, string Queue);

    public sealed record ProbeStatus(string Id, string State, ProbeResult? Result);

    public static RouteGroupBuilder MapDiagnosticsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/diagnostics").WithTags("Diagnostics");
        api.MapPost("/probe", EnqueueProbe)
            .WithSummary("Run a tiny TorchSharp forward and backward pass on a worker of the given queue")
            .WithDescription("Returns the Hangfire job id; poll GET /v1/diagnostics/probe/{id} for the worker, device and enqueue-to-start latency.");
        api.MapGet("/probe/{id}", GetProbe).WithSummary("State and result of a probe");
        return api;
    }

    public static Results<Accepted<ProbeAccepted>, ValidationProblem> EnqueueProbe(IBackgroundJobClient jobs, TimeProvider time, string queue = "cpu")
    {
        if (!QueueNames.IsValid(queue))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["queue"] = [QueueNames.Rule] });
        var id = jobs.Enqueue<TorchProbeJob>(queue, p => p.Run(time.GetUtcNow()));
        return TypedResults.Accepted($"/v1/diagnostics/probe/{id}", new ProbeAccepted(id, queue));
    }

    public static Results<Ok<ProbeStatus>, NotFound> GetProbe(string id, JobStorage storage)
    {
        var details = storage.GetMonitoringApi().JobDetails(id);
        if (details is null || details.Job?.Type != typeof(TorchProbeJob)) return TypedResults.NotFound();
        var state = details.History.FirstOrDefault();
        ProbeResult? result = null;
        if (state is { StateName: "Succeeded" } && state.Data.TryGetValue("Result", out var json))
            result = JsonSerializer.Deserialize<ProbeResult>(json);
        return TypedResults.Ok(new ProbeStatus(id, state?.StateName ?? "Unknown", result));
    }
}
