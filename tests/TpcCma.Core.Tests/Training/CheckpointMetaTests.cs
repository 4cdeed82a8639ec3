using System.Text.Json;
using System.Text.Json.Nodes;
using TpcCma.Curriculum;
using TpcCma.Training;

namespace TpcCma.Core.Tests.Training;

/// <summary>meta.json as earlier versions wrote it must still resume.</summary>
public sealed class CheckpointMetaTests : IDisposable
{
    private readonly string root = TrainerFixtures.TempDirectory();

    public void Dispose() => Directory.Delete(root, recursive: true);

    private void Write(long step, Action<JsonObject> edit)
    {
        var meta = new CheckpointMeta(step, CurriculumState.Start.Phase, TrainerFixtures.Spec(), CurriculumState.Start, null, [])
            { RngState = "AQID", WeightsSha256 = new string('a', 64) };
        var json = JsonNode.Parse(JsonSerializer.Serialize(meta, TrainingSpec.JsonOptions))!.AsObject();
        edit(json);
        var folder = Directory.CreateDirectory(Path.Combine(root, CheckpointStore.StepDirectoryName(step))).FullName;
        File.WriteAllText(Path.Combine(folder, CheckpointStore.MetaFile), json.ToJsonString());
        File.WriteAllText(Path.Combine(root, CheckpointStore.LatestFile), CheckpointStore.LatestJson(step));
    }

    [Fact]
    public void ReadLatest_ReadsRngAndHash_MetaWithLegacyLoaderPosition()
    {
        Write(12, json => json["loader_position"] = 12);

        var meta = new CheckpointStore(root).ReadLatest()!;

        Assert.Equal(12, meta.Step);
        Assert.Equal("AQID", meta.RngState);
        Assert.Equal(new string('a', 64), meta.WeightsSha256);
    }

    [Fact]
    public void ReadLatest_StillRefusesAnUnknownSpecField_NestedSpecStaysStrict()
    {
        Write(3, json => json["spec"]!["no_such_field"] = 1);

        Assert.Throws<JsonException>(() => new CheckpointStore(root).ReadLatest());
    }
}
