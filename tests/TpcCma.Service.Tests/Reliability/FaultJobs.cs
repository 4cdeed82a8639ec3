using System.Net;
using Npgsql;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>The small align job the fault tests run, and what they read back about it over the API.</summary>
internal static class FaultJobs
{
    /// <summary>An align job on the tiny model that logs every step and evaluates nothing, on batches of 8 (the faults under test do not depend on the batch, and half the batch is a seventh less of the fault tests' CPU).</summary>
    public static async Task<string> SubmitAsync(HttpClient client, string model, string dataset, int steps, int checkpointEvery)
    {
        var response = await client.PostAsJsonAsync("/v1/jobs", new
        {
            name = $"fault-{steps}", base_model = model, dataset,
            spec = new
            {
                kind = "align", alpha_target = 0.5, steps, batch_size = 8, lr = 1e-4, checkpoint_every = checkpointEvery, log_every = 1, seed = 7,
                eval = new { enabled = false },
            },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ServiceStack.ReadJsonAsync(response))["id"]!.GetValue<string>();
    }

    /// <summary>The job as the API shows it, or null while the API cannot answer (it or the database is restarting).</summary>
    public static async Task<JsonObject?> TryGetAsync(HttpClient client, string id)
    {
        try
        {
            using var response = await client.GetAsync($"/v1/jobs/{id}");
            return response.IsSuccessStatusCode ? await ServiceStack.ReadJsonAsync(response) : null;
        }
        catch (HttpRequestException) { return null; }
    }

    /// <summary>Polls until the job has done at least <paramref name="step"/> steps; returns the step it saw.</summary>
    public static async Task<long> WaitForStepAsync(HttpClient client, string id, long step, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (DateTime.UtcNow < deadline)
        {
            if (await TryGetAsync(client, id) is { } job)
            {
                var status = job["status"]!.GetValue<string>();
                Assert.False(status is "failed" or "cancelled" or "succeeded", $"job {id} ended ({status}) before step {step}: {job.ToJsonString()}");
                var seen = job["step"]!.GetValue<long>();
                if (seen >= step) return seen;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"job {id} did not reach step {step}");
    }

    /// <summary>Polls until the job has ended, riding over polls that fail while a part of the service restarts.</summary>
    public static async Task<JsonObject> WaitForEndAsync(HttpClient client, string id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject? job = null;
        while (DateTime.UtcNow < deadline)
        {
            job = await TryGetAsync(client, id) ?? job;
            if (job?["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled") return job;
            await Task.Delay(200);
        }
        throw new TimeoutException($"job {id} has not ended after {timeout}: {job?.ToJsonString()}");
    }

    public static async Task<JsonArray> EventsAsync(HttpClient client, string id) =>
        (await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/jobs/{id}/events")))["data"]!.AsArray();

    public static IEnumerable<JsonNode> OfKind(this JsonArray events, string kind) => events.Select(e => e!).Where(e => e["kind"]!.GetValue<string>() == kind);

    /// <summary>The status timeline: <c>queued</c>, <c>running</c> (once per start), then how it ended.</summary>
    public static List<string> Statuses(JsonArray events) =>
        events.OfKind("status").Select(e => e["message"]!.GetValue<string>().Split(' ')[0].TrimEnd(':')).ToList();

    /// <summary>The steps that have a stored loss, in the order the API returns them.</summary>
    public static async Task<List<long>> LossStepsAsync(HttpClient client, string id)
    {
        var loss = (await client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/metrics?names=loss"))!.Single()!;
        return loss["steps"]!.AsArray().Select(s => s!.GetValue<long>()).ToList();
    }

    /// <summary>
    /// The job's Hangfire state (e.g. <c>Processing</c>, <c>Succeeded</c>) and whether it waits in a queue for the
    /// next worker to fetch it (a row of Hangfire's job queue that no worker holds).
    /// </summary>
    public static async Task<(string State, bool Queued)> HangfireAsync(string connectionString, string id)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(
            """
            SELECT h.statename, EXISTS (SELECT 1 FROM hangfire.jobqueue q WHERE q.jobid = h.id AND q.fetchedat IS NULL)
            FROM hangfire.job h JOIN jobs t ON t."HangfireJobId" = h.id::text WHERE t."Id" = @id
            """, connection);
        query.Parameters.AddWithValue("id", Guid.Parse(id));
        await using var row = await query.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync(), $"job {id} has no Hangfire job");
        return (row.GetString(0), row.GetBoolean(1));
    }

    /// <summary>
    /// Hangfire's record of the job once it reaches <paramref name="state"/> (or the last seen, after the timeout):
    /// Hangfire moves the job to its final state just after the job's own row is written, and after a database
    /// outage its storage connection may take a moment to come back.
    /// </summary>
    public static async Task<(string State, bool Queued)> HangfireWhenAsync(string connectionString, string id, string state, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var seen = await HangfireAsync(connectionString, id);
            if (seen.State == state || DateTime.UtcNow > deadline) return seen;
            await Task.Delay(200);
        }
    }

    /// <summary>1..n: every step once, in order, none missing.</summary>
    public static List<long> AllSteps(int n) => Enumerable.Range(1, n).Select(i => (long)i).ToList();
}
