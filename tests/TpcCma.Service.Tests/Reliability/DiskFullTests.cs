using System.Net;
using System.Security.Cryptography;
using TpcCma.Service.Hosting;
using TpcCma.Training;

namespace TpcCma.Service.Tests.Reliability;

/// <summary>
/// The artifact disk fills up under a running job (a real, size-limited tmpfs): the job fails with an I/O error
/// naming the file it could not write, and the checkpoint before stays the latest, intact and downloadable.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly FaultDeployment deployment = new();

    public Task InitializeAsync() => deployment.InitializeAsync();

    public Task DisposeAsync() => deployment.DisposeAsync();

    [TmpfsFact]
    public async Task DiskFull_AtACheckpoint_JobFailsNamingThePath_AndThePreviousCheckpointStaysValid()
    {
        using var disk = TmpfsMount.Over(deployment.Stack.ArtifactRoot, sizeMiB: 256);
        var worker = await deployment.Stack.StartWorkerAsync("node-a");
        var id = await deployment.SubmitAsync(steps: 400, checkpointEvery: 30);
        var first = await WaitForCheckpointAsync(id);
        var filled = TmpfsMount.FillUp(Path.Combine(deployment.Stack.ArtifactRoot, "filler.bin"));
        output.WriteLine($"checkpoint at step {first} recorded; then {filled >> 20} MiB filled the disk");

        var job = await FaultJobs.WaitForEndAsync(deployment.Client, id, TimeSpan.FromSeconds(120));
        Assert.True(job["status"]!.GetValue<string>() == "failed", $"{job.ToJsonString()}\n{worker.Output}");
        Assert.Equal("io_error", job["error"]!["code"]!.GetValue<string>());
        var message = job["error"]!["message"]!.GetValue<string>();
        output.WriteLine($"failed at step {job["step"]}: {message}");
        var checkpoints = new ArtifactPaths(deployment.Stack.ArtifactRoot).CheckpointDirectory(Guid.Parse(id));
        Assert.Contains(checkpoints, message);   // names the file it could not write
        Assert.Equal(["queued", "running", "failed"], FaultJobs.Statuses(await FaultJobs.EventsAsync(deployment.Client, id)));

        // The newest recorded checkpoint is the one latest.json names, its weights match the recorded sha256, and it downloads.
        var recorded = (await deployment.Client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints"))!.Last()!;
        var step = recorded["step"]!.GetValue<long>();
        var latest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(checkpoints, CheckpointStore.LatestFile)))!;
        Assert.Equal(CheckpointStore.StepDirectoryName(step), latest["directory"]!.GetValue<string>());
        var sha256 = recorded["sha256"]!.GetValue<string>();
        var weights = Path.Combine(checkpoints, CheckpointStore.StepDirectoryName(step), CheckpointStore.WeightsFile);
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(weights))));
        var download = await deployment.Client.GetAsync($"/v1/jobs/{id}/checkpoints/latest/download");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(await download.Content.ReadAsByteArrayAsync())));
    }

    private async Task<long> WaitForCheckpointAsync(string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            var checkpoints = await deployment.Client.GetFromJsonAsync<JsonArray>($"/v1/jobs/{id}/checkpoints");
            if (checkpoints is [var first, ..]) return first!["step"]!.GetValue<long>();
            await Task.Delay(50);
        }
        throw new TimeoutException($"job {id} recorded no checkpoint");
    }
}
