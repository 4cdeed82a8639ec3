using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TpcCma.Service.Api;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Tests.Smoke;

/// <summary>The stack works end to end: migrations on the real PostgreSQL, Swagger, and a Hangfire job enqueued
/// by an API process and run by a separate worker process.</summary>
public sealed class StackSmokeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private ApiFactory api = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        api = new ApiFactory(database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await api.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task Startup_AppliesMigrations_CreatesEveryTableInPostgres()
    {
        using var client = api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        await using var db = await api.Services.GetRequiredService<IDbContextFactory<TrainingDb>>().CreateDbContextAsync();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("select table_name from information_schema.tables where table_schema = 'public'", connection);
        var tables = new List<string>();
        await using (var reader = await query.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        var expected = db.Model.GetEntityTypes().Select(t => t.GetTableName()!).ToList();
        Assert.NotEmpty(expected);
        Assert.All(expected, t => Assert.Contains(t, tables));
    }

    [Fact]
    public async Task Swagger_Document_DescribesTheApi()
    {
        using var client = api.CreateClient();
        var doc = await client.GetStringAsync("/swagger/v1/swagger.json");
        Assert.Contains("\"/v1/diagnostics/probe\"", doc);
        Assert.Contains("TPC-CMA Service", doc);
    }

    [Fact]
    public async Task Probe_EnqueuedByApi_RunsOnSeparateWorkerProcess()
    {
        using var client = api.CreateClient();
        await client.GetAsync("/readyz"); // migrations and Hangfire schema exist before the worker starts
        await using var worker = await ServiceProcess.StartAsync("worker", database.ConnectionString, api.ArtifactRoot);

        var latencies = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var accepted = await (await client.PostAsync("/v1/diagnostics/probe?queue=cpu", null)).Content.ReadFromJsonAsync<DiagnosticsApi.ProbeAccepted>(ApiJsonOptions);
            var status = await PollAsync(client, accepted!.Id, TimeSpan.FromSeconds(30));
            Assert.Equal("Succeeded", status.State);
            // The probe names the process that ran it: the worker process, not the API (which runs in this test's process).
            Assert.EndsWith($":{worker.ProcessId}", status.Result!.Worker);
            Assert.DoesNotContain($":{Environment.ProcessId}", status.Result.Worker);
            Assert.True(status.Result.GradNorm > 0);
            latencies.Add(status.Result.EnqueueToStartMs);
        }
        // Reported, not asserted: timings belong in benchmarks. With LISTEN/NOTIFY a warm worker starts within
        // tens of milliseconds; the fallback poll (1 s) would set the pace without it.
        output.WriteLine($"enqueue-to-start latency (ms), API process -> worker process: {string.Join(", ", latencies.Select(l => l.ToString("F1")))}");
    }

    private static readonly System.Text.Json.JsonSerializerOptions ApiJsonOptions = CreateApiJsonOptions();

    private static System.Text.Json.JsonSerializerOptions CreateApiJsonOptions()
    {
        var options = new System.Text.Json.JsonSerializerOptions();
        ApiJson.Configure(options);   // the API speaks snake_case
        return options;
    }

    private static async Task<DiagnosticsApi.ProbeStatus> PollAsync(HttpClient client, string id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var status = await client.GetFromJsonAsync<DiagnosticsApi.ProbeStatus>($"/v1/diagnostics/probe/{id}", ApiJsonOptions);
            if (status!.State is "Succeeded" or "Failed" || DateTime.UtcNow > deadline) return status;
            await Task.Delay(100);
        }
    }
}
