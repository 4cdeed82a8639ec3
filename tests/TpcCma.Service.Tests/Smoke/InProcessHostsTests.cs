using System.Net;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace TpcCma.Service.Tests.Smoke;

/// <summary>
/// Two services hosted in one process, as these tests do several at a time: Hangfire keeps its storage and log
/// provider in process-wide statics, yet each host enqueues into its own database, and a host that stops leaves
/// Hangfire's logging usable for the one still running.
/// </summary>
public sealed class InProcessHostsTests : IAsyncLifetime
{
    private readonly TestDatabase first = new(), second = new();

    public async Task InitializeAsync()
    {
        await first.InitializeAsync();
        await second.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await first.DisposeAsync();
        await second.DisposeAsync();
    }

    [Fact]
    public async Task EachHost_EnqueuesIntoItsOwnDatabase_AndStillDoesAfterTheOtherStopped()
    {
        await using var running = new ApiFactory(first.ConnectionString);
        using var runningClient = running.CreateClient();
        await using (var stopping = new ApiFactory(second.ConnectionString))
        {
            // Started last: Hangfire's statics now hold this host's storage and logger factory.
            using var stoppingClient = stopping.CreateClient();
            Assert.Equal(HttpStatusCode.Accepted, (await stoppingClient.PostAsync("/v1/diagnostics/probe?queue=cpu", null)).StatusCode);
            Assert.NotSame(running.Services.GetRequiredService<JobStorage>(), stopping.Services.GetRequiredService<JobStorage>());
        }

        // The stopped host's logger factory is disposed; Hangfire asks its provider for loggers while it enqueues.
        Assert.NotNull(Hangfire.Logging.LogProvider.GetLogger("after-a-host-stopped"));
        Assert.Equal(HttpStatusCode.Accepted, (await runningClient.PostAsync("/v1/diagnostics/probe?queue=cpu", null)).StatusCode);
        Assert.Equal(1, await HangfireJobCountAsync(first));
        Assert.Equal(1, await HangfireJobCountAsync(second));
    }

    private static async Task<long> HangfireJobCountAsync(TestDatabase database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from hangfire.job", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
