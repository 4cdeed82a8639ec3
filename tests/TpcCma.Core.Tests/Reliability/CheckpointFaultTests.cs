using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;
using TpcCma.Core.Tests.Training;
using TpcCma.Training;

namespace TpcCma.Core.Tests.Reliability;

/// <summary>Faults on the checkpoint path: a corrupted weights file is refused on resume, a failed write keeps the previous checkpoint.</summary>
[Collection("Torch")]
public class CheckpointFaultTests
{
    [Fact]
    public void Resume_CorruptedWeights_IsDetectedBySha256AndNeverLoaded()
    {
        using var threads = TrainerFixtures.SingleThread();
        var dir = TrainerFixtures.TempDirectory();
        var spec = TrainerFixtures.Spec(12) with { CheckpointEvery = 4 };
        using (var batches = TrainerFixtures.Batches(pool: 16, batch: 8))
        using (var model = TrainerFixtures.Model(5))
        using (var trainer = new Trainer(spec, model, batches, dir))
            trainer.Run(CancellationToken.None);
        var latest = Path.Combine(dir, LatestStepDirectory(dir), CheckpointStore.WeightsFile);
        var bytes = File.ReadAllBytes(latest);
        bytes[bytes.Length / 2] ^= 0x5A;   // one flipped byte in the tensor data: the file still parses as safetensors
        File.WriteAllBytes(latest, bytes);

        using var fresh = TrainerFixtures.Model(99);
        var before = Snapshot(fresh);
        using var freshBatches = TrainerFixtures.Batches(pool: 16, batch: 8);
        using var resumed = new Trainer(spec, fresh, freshBatches, dir);
        var error = Assert.Throws<InvalidDataException>(() => resumed.Run(CancellationToken.None));

        Assert.Contains("sha256", error.Message, StringComparison.Ordinal);
        Assert.Contains(latest, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(fresh));   // not one parameter was overwritten by the corrupted file
    }

    [Fact]
    public void Save_WhenTheDiskRefusesTheWrite_FailsClearlyAndKeepsThePreviousCheckpoint()
    {
        using var threads = TrainerFixtures.SingleThread();
        var dir = TrainerFixtures.TempDirectory();
        var spec = TrainerFixtures.Spec(20) with { CheckpointEvery = 8 };
        // The step-16 checkpoint cannot be written: a file occupies its temporary folder, as a full or read-only disk would refuse it.
        var blocker = Path.Combine(dir, $".{CheckpointStore.StepDirectoryName(16)}.tmp");
        File.WriteAllText(blocker, "");

        var observer = new RecordingObserver();
        using (var batches = TrainerFixtures.Batches(pool: 16, batch: 8))
        using (var model = TrainerFixtures.Model(5))
        using (var trainer = new Trainer(spec, model, batches, dir, observer))
        {
            var error = Assert.ThrowsAny<IOException>(() => trainer.Run(CancellationToken.None));
            Assert.Contains(blocker, error.Message, StringComparison.Ordinal);
        }
        var previous = observer.Checkpoints.Last();
        Assert.True(previous.Step < 16, $"last checkpoint before the fault was at {previous.Step}");
        Assert.Equal(CheckpointStore.StepDirectoryName(previous.Step), LatestStepDirectory(dir));
        var weights = Path.Combine(dir, LatestStepDirectory(dir), CheckpointStore.WeightsFile);
        Assert.Equal(previous.WeightsSha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(weights))));

        // Once the disk accepts writes again, the run resumes from that checkpoint and finishes.
        File.Delete(blocker);
        var resumedObserver = new RecordingObserver();
        using var again = TrainerFixtures.Batches(pool: 16, batch: 8);
        using var resumedModel = TrainerFixtures.Model(6);
        using var resumed = new Trainer(spec, resumedModel, again, dir, resumedObserver);
        Assert.Equal(20, resumed.Run(CancellationToken.None).Steps);
        Assert.Contains(resumedObserver.Events, e => e.Kind == "resumed" && e.Step == previous.Step);
    }

    private static string LatestStepDirectory(string dir) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, CheckpointStore.LatestFile))).RootElement.GetProperty("directory").GetString()!;

    private static string Snapshot(global::TpcCma.Model.ClipModel model)
    {
        using var scope = torch.NewDisposeScope();
        var values = model.parameters().SelectMany(p => p.detach().cpu().to_type(torch.ScalarType.Float32).data<float>().ToArray()).ToArray();
        return Convert.ToHexStringLower(SHA256.HashData(AsBytes(values)));
    }

    private static byte[] AsBytes(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }
}
