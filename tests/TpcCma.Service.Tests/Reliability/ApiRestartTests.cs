using System.Diagnostics;
using System.Net.Http.Headers;
using TpcCma.Cli;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>
/// The API process killed while pipeline steps wait on a job through it (<c>tpccma jobs wait</c>, as processes of
/// their own), and started again on the same address after the worker has finished the job: the waits ride over
/// the outage and end with the job's final status, and everything the job stored is served again.
/// </summary>
[TakesAbout(seconds: 50)]
public sealed class ApiRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Steps = 50;
    private readonly FaultDeployment deployment = new();

    public Task InitializeAsync() => deployment.InitializeAsync();

    public Task DisposeAsync() => deployment.DisposeAsync();

    [Fact]
    public async Task ApiKilledAndRestarted_WhileClientsWait_ClientsEndWithTheFinalStatus_AndNothingStoredIsLost()
    {
        await deployment.Stack.StartWorkerAsync("node-a");
        var api = await deployment.Stack.StartApiAsync();
        var id = await deployment.SubmitAsync(Steps, checkpointEvery: 20);
        var following = Tpccma(api.BaseUrl, "jobs", "wait", id, "--follow", "--timeout", "300");
        var json = Tpccma(api.BaseUrl, "jobs", "wait", id, "--output", "json", "--timeout", "300");
        await FaultJobs.WaitForStepAsync(deployment.Client, id, 20);
        Assert.False(following.IsCompleted || json.IsCompleted, "a client stopped waiting before the fault");

        api.Kill();
        var clock = Stopwatch.StartNew();
        // The in-process API (same database) watches the worker finish the job while the clients' API is down.
        var finished = await FaultJobs.WaitForEndAsync(deployment.Client, id, TimeSpan.FromSeconds(120));
        Assert.Equal("succeeded", finished["status"]!.GetValue<string>());
        Assert.False(following.IsCompleted || json.IsCompleted, "a client gave up while the API was down");
        var restarted = await deployment.Stack.StartApiAsync(api.Port);
        output.WriteLine($"API down for {clock.Elapsed.TotalSeconds:F1} s");

        foreach (var (name, run) in new[] { ("--follow", following), ("--output json", json) })
        {
            var (code, stdout, stderr) = await run.WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"== jobs wait {name}: exit {code}\n{stdout}\n{stderr}");
            Assert.Equal(ExitCodes.Ok, code);
            Assert.Contains("the service is unreachable", stderr);
            Assert.Contains("the service answers again", stderr);
        }
        var reported = JsonNode.Parse((await json).Stdout)!;
        Assert.Equal("succeeded", reported["status"]!.GetValue<string>());
        Assert.Equal(Steps, reported["step"]!.GetValue<long>());

        // Everything the job stored is served by the restarted process: the job, its timeline, every step's loss, its checkpoints.
        using var http = new HttpClient { BaseAddress = new Uri(restarted.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", deployment.Key);
        var job = (await http.GetFromJsonAsync<JsonObject>($"/v1/jobs/{id}"))!;
        Assert.Equal("succeeded", job["status"]!.GetValue<string>());
        var events = await FaultJobs.EventsAsync(http, id);
        Assert.Equal(["queued", "running", "succeeded"], FaultJobs.Statuses(events));
        Assert.Equal(["ramp", "consolidate"], events.OfKind("phase").Select(e => e["data"]!["to"]!.GetValue<string>()));
        Assert.Equal(FaultJobs.AllSteps(Steps), await FaultJobs.LossStepsAsync(http, id));
        var checkpoints = (await http.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!;
        Assert.Contains(checkpoints, c => c!["step"]!.GetValue<long>() == Steps);

        // The help names the option and its bound.
        var help = new StringWriter();
        Assert.Equal(ExitCodes.Ok, await CliApp.RunAsync(["jobs", "wait", "--help"], help, help));
        Assert.Contains("--retry-for SECONDS", help.ToString());
        Assert.Contains("default 120", help.ToString());
    }

    /// <summary>The <c>tpccma</c> client as its own process, as a pipeline step runs it.</summary>
    private async Task<(int Code, string Stdout, string Stderr)> Tpccma(string url, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "tpccma.dll"), .. args, "--url", url, "--key", deployment.Key]) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start tpccma");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
