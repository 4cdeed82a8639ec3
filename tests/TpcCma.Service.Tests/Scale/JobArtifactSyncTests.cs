using Microsoft.Extensions.Logging.Abstractions;
using TpcCma.Curriculum;
using TpcCma.Service.Hosting;
using TpcCma.Service.Jobs;
using TpcCma.Service.Storage;
using TpcCma.Service.Tests.Storage;
using TpcCma.Training;

namespace TpcCma.Service.Tests.Scale;

/// <summary>
/// Checkpoint files between two nodes' folders through a real S3 server (moto), without training: the trainer's
/// output is stood in for by files laid out as <see cref="CheckpointStore"/> writes them.
/// </summary>
public sealed class JobArtifactSyncTests(MotoServer moto) : IClassFixture<MotoServer>, IDisposable
{
    private readonly S3ArtifactStore store = S3ArtifactStore.Create(moto.Options("sync-" + Guid.NewGuid().ToString("N")[..12]));
    private readonly ArtifactPaths nodeA = new(Directory.CreateTempSubdirectory("tpccma-sync-a-").FullName);
    private readonly ArtifactPaths nodeB = new(Directory.CreateTempSubdirectory("tpccma-sync-b-").FullName);
    private readonly Guid jobId = Guid.NewGuid();

    public void Dispose()
    {
        store.Dispose();
        foreach (var root in new[] { nodeA.Root, nodeB.Root }) Directory.Delete(root, recursive: true);
    }

    private JobArtifactSync Sync(ArtifactPaths paths, bool shared = true) => new(store, paths, shared, NullLogger<JobArtifactSync>.Instance);

    /// <summary>A checkpoint folder, <c>latest.json</c> naming it, the tokenizer, and an HF export the node made for itself.</summary>
    private CheckpointInfo WriteCheckpoint(ArtifactPaths paths, long step)
    {
        var directory = Path.Combine(paths.CheckpointDirectory(jobId), CheckpointStore.StepDirectoryName(step));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, CheckpointStore.WeightsFile), $"weights of step {step}");
        File.WriteAllText(Path.Combine(directory, CheckpointStore.OptimizerFile), $"optimizer of step {step}");
        File.WriteAllText(Path.Combine(directory, CheckpointStore.MetaFile), $"{{\"step\": {step}}}");
        File.WriteAllText(Path.Combine(directory, CheckpointExports.HfTar), "a local export");
        File.WriteAllText(Path.Combine(paths.CheckpointDirectory(jobId), CheckpointStore.LatestFile), CheckpointStore.LatestJson(step));
        Directory.CreateDirectory(paths.TokenizerDirectory(jobId));
        File.WriteAllText(Path.Combine(paths.TokenizerDirectory(jobId), "vocab.json"), "{}");
        return new CheckpointInfo(step, TrainingPhase.Ramp, directory, "unused", "every");
    }

    private async Task<List<long>> UploadAsync(params long[] steps)
    {
        var uploaded = new List<long>();
        await using var uploads = Sync(nodeA).StartUploads(jobId, c => { lock (uploaded) uploaded.Add(c.Step); })!;
        foreach (var step in steps) uploads.Enqueue(WriteCheckpoint(nodeA, step));
        await uploads.DrainAsync(TimeSpan.FromSeconds(60));
        return uploaded;
    }

    [Fact]
    public async Task RestoreAsync_FetchesNewestUploadedCheckpointToAnotherNode_WithoutLocalOnlyFiles()
    {
        var uploaded = await UploadAsync(10);

        var restored = await Sync(nodeB).RestoreAsync(jobId, CancellationToken.None);

        Assert.Equal([10L], uploaded);
        Assert.Equal(10, restored);
        var folder = Path.Combine(nodeB.CheckpointDirectory(jobId), CheckpointStore.StepDirectoryName(10));
        Assert.Equal("weights of step 10", File.ReadAllText(Path.Combine(folder, CheckpointStore.WeightsFile)));
        Assert.Equal("optimizer of step 10", File.ReadAllText(Path.Combine(folder, CheckpointStore.OptimizerFile)));
        Assert.False(File.Exists(Path.Combine(folder, CheckpointExports.HfTar)), "a node's own HF export was shared");
        Assert.True(File.Exists(Path.Combine(nodeB.TokenizerDirectory(jobId), "vocab.json")));
        Assert.Equal(10, CheckpointStore.LatestStep(File.ReadAllText(Path.Combine(nodeB.CheckpointDirectory(jobId), CheckpointStore.LatestFile)), "latest"));
    }

    [Fact]
    public async Task RestoreAsync_LeavesLocalFolder_WhenItHoldsTheNewestCheckpointAlready()
    {
        await UploadAsync(10);
        WriteCheckpoint(nodeB, 15);   // this node ran further than the store has

        Assert.Null(await Sync(nodeB).RestoreAsync(jobId, CancellationToken.None));
        Assert.Null(await Sync(nodeA).RestoreAsync(jobId, CancellationToken.None));
        Assert.Equal(15, CheckpointStore.LatestStep(File.ReadAllText(Path.Combine(nodeB.CheckpointDirectory(jobId), CheckpointStore.LatestFile)), "latest"));
    }

    [Fact]
    public async Task StoreLatest_NamesOnlyCompleteUploads_AfterSeveralCheckpoints()
    {
        var uploaded = await UploadAsync(5, 10, 15);

        Assert.Equal(15, uploaded[^1]);   // older waiting ones may have been skipped, the newest never
        Assert.Equal(uploaded.Order(), uploaded);
        foreach (var step in uploaded)
            Assert.NotNull(await store.GetInfoAsync($"jobs/{jobId:N}/checkpoints/{CheckpointStore.StepDirectoryName(step)}/{CheckpointStore.WeightsFile}"));
        await using var latest = await store.OpenReadAsync(JobArtifactSync.LatestKey(jobId));
        Assert.Equal(15, CheckpointStore.LatestStep(await new StreamReader(latest).ReadToEndAsync(), "latest"));
    }

    [Fact]
    public async Task LocalStore_SharesNothing()
    {
        var sync = Sync(nodeA, shared: false);
        WriteCheckpoint(nodeA, 5);

        Assert.Null(sync.StartUploads(jobId, _ => { }));
        Assert.Null(await sync.RestoreAsync(jobId, CancellationToken.None));
        Assert.Equal(Path.Combine(nodeA.CheckpointDirectory(jobId), "step_000005"), await sync.FetchCheckpointAsync(jobId, $"jobs/{jobId:N}/checkpoints/step_000005", CancellationToken.None));
    }

    [Fact]
    public async Task ArtifactReadStream_ReadsFromAnyPosition_OpeningTheStoreLazily()
    {
        var bytes = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        var source = Path.Combine(nodeA.Root, "blob.bin");
        File.WriteAllBytes(source, bytes);
        await store.PutFileAsync("jobs/blob.bin", source);

        await using var stream = new ArtifactReadStream(store, "jobs/blob.bin", bytes.Length);
        stream.Seek(1234, SeekOrigin.Begin);
        var tail = new MemoryStream();
        await stream.CopyToAsync(tail);
        stream.Position = 10;
        var some = new byte[20];
        await stream.ReadExactlyAsync(some);

        Assert.Equal(bytes[1234..], tail.ToArray());
        Assert.Equal(bytes[10..30], some);
        Assert.Equal(30, stream.Position);
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.Seek(1, SeekOrigin.End));
    }
}
