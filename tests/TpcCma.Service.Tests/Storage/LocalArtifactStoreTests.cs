using TpcCma.Service.Storage;

namespace TpcCma.Service.Tests.Storage;

/// <summary>The store contract on a temporary folder, plus what is particular to files on disk.</summary>
public sealed class LocalArtifactStoreTests : ArtifactStoreContract
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("tpccma-local-store-");

    private LocalArtifactStore Local => (LocalArtifactStore)Store;

    protected override Task<IArtifactStore> CreateStoreAsync() => Task.FromResult<IArtifactStore>(new LocalArtifactStore(root.FullName));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        root.Delete(recursive: true);
    }

    [Fact]
    public async Task PutFileAsync_StoresTheFileAtItsKey_AndKeepsBookkeepingOutOfListings()
    {
        await Store.PutFileAsync("jobs/j1/checkpoints/step_000001/model.safetensors", ScratchFile(64, seed: 20));

        Assert.True(File.Exists(Path.Combine(root.FullName, "jobs", "j1", "checkpoints", "step_000001", "model.safetensors")));
        Assert.True(Directory.Exists(Path.Combine(root.FullName, ArtifactKey.ReservedFolder)));
        Assert.Equal(["jobs/j1/checkpoints/step_000001/model.safetensors"], await Store.ListAsync("").Select(i => i.Key).ToListAsync());
        Assert.Empty(Directory.GetFiles(Path.Combine(root.FullName, ArtifactKey.ReservedFolder, "tmp")));
    }

    [Fact]
    public async Task GetInfoAsync_HasNoSha256_ForFilesWrittenAroundTheStoreOrChangedSince()
    {
        var direct = Path.Combine(root.FullName, "datasets", "emoji", "index.json");
        Directory.CreateDirectory(Path.GetDirectoryName(direct)!);
        await File.WriteAllTextAsync(direct, "{}");
        await Store.PutFileAsync("jobs/j2/meta.json", ScratchFile(32, seed: 21));
        await File.AppendAllTextAsync(Local.PathOf("jobs/j2/meta.json"), "tampered");

        var foreign = await Store.GetInfoAsync("datasets/emoji/index.json");
        var changed = await Store.GetInfoAsync("jobs/j2/meta.json");

        Assert.Equal(2, foreign!.Size);
        Assert.Null(foreign.Sha256);
        Assert.Equal(40, changed!.Size);
        Assert.Null(changed.Sha256);
    }

    [Fact]
    public async Task DeleteAsync_RemovesFoldersItEmptied_ButNotTheRoot()
    {
        await Store.PutFileAsync("jobs/j3/checkpoints/step_000001/model.safetensors", ScratchFile(8, seed: 22));

        await Store.DeleteAsync("jobs/j3/checkpoints/step_000001/model.safetensors");

        Assert.False(Directory.Exists(Path.Combine(root.FullName, "jobs")));
        Assert.True(root.Exists);
    }

    [Fact]
    public async Task IsReachableAsync_IsFalse_WhenTheRootCannotBeCreated()
    {
        var file = ScratchFile(1, seed: 23);
        var store = new LocalArtifactStore(Path.Combine(file, "artifacts"));

        Assert.False(await store.IsReachableAsync());
    }
}
