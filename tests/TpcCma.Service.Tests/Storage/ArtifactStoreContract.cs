using System.Security.Cryptography;
using TpcCma.Service.Storage;

namespace TpcCma.Service.Tests.Storage;

/// <summary>
/// What every <see cref="IArtifactStore"/> must do, run against each real implementation by a subclass
/// (a temporary folder, a moto S3 server). Each test writes under its own fresh store, so none sees another's data.
/// </summary>
public abstract class ArtifactStoreContract : IAsyncLifetime
{
    private const string Checkpoint = "jobs/0f3c/checkpoints/step_000100/model.safetensors";
    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("tpccma-store-test-");

    protected IArtifactStore Store { get; private set; } = null!;

    /// <summary>A new, empty store of the implementation under test.</summary>
    protected abstract Task<IArtifactStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync()
    {
        (Store as IDisposable)?.Dispose();
        scratch.Delete(recursive: true);
        return Task.CompletedTask;
    }

    protected string ScratchFile(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        var path = Path.Combine(scratch.FullName, $"source-{seed}-{size}.bin");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    protected string ScratchPath(string name) => Path.Combine(scratch.FullName, name);

    protected static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public async Task PutFileAsync_RoundTripsBytesAndSha256_ThroughGetInfoAndGetFile()
    {
        var source = ScratchFile(100_000, seed: 1);
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);

        var put = await Store.PutFileAsync(Checkpoint, source);
        var info = await Store.GetInfoAsync(Checkpoint);
        var copy = ScratchPath("copy.bin");
        await Store.GetFileAsync(Checkpoint, copy);

        Assert.Equal(Sha256Of(source), put.Sha256);
        Assert.NotNull(info);
        Assert.Equal(Checkpoint, info.Key);
        Assert.Equal(100_000, info.Size);
        Assert.Equal(Sha256Of(source), info.Sha256);
        Assert.InRange(info.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(copy));
    }

    [Fact]
    public async Task PutFileAsync_ReplacesContentAndHash_WhenKeyExists()
    {
        await Store.PutFileAsync(Checkpoint, ScratchFile(1000, seed: 2));
        var second = ScratchFile(700, seed: 3);

        await Store.PutFileAsync(Checkpoint, second);
        var info = await Store.GetInfoAsync(Checkpoint);

        Assert.Equal(700, info!.Size);
        Assert.Equal(Sha256Of(second), info.Sha256);
    }

    [Fact]
    public async Task PutFileAsync_EmptyFile_RoundTrips()
    {
        var source = ScratchFile(0, seed: 4);
        await Store.PutFileAsync("datasets/empty.txt", source);
        var copy = ScratchPath("empty-copy");
        await Store.GetFileAsync("datasets/empty.txt", copy);

        Assert.Equal(0, (await Store.GetInfoAsync("datasets/empty.txt"))!.Size);
        Assert.Equal(0, new FileInfo(copy).Length);
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(10, 100)]
    [InlineData(99_990, null)]
    [InlineData(99_990, 50)] // past the end: clamped, as HTTP ranges are
    [InlineData(100_000, null)] // at the end: empty
    [InlineData(5, 0)]
    public async Task OpenReadAsync_ReturnsExactlyTheRange(int offset, int? length)
    {
        var source = ScratchFile(100_000, seed: 5);
        await Store.PutFileAsync(Checkpoint, source);
        var all = File.ReadAllBytes(source);

        await using var stream = await Store.OpenReadAsync(Checkpoint, offset, length);
        using var read = new MemoryStream();
        await stream.CopyToAsync(read);

        var end = Math.Min(all.Length, offset + (length ?? all.Length));
        Assert.Equal(all[offset..end], read.ToArray());
    }

    [Fact]
    public async Task OpenReadAsync_Throws_WhenRangeIsInvalid()
    {
        await Store.PutFileAsync(Checkpoint, ScratchFile(1000, seed: 6));

        var past = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.OpenReadAsync(Checkpoint, 1001, null));
        Assert.Contains("past the end", past.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.OpenReadAsync(Checkpoint, -1, null));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.OpenReadAsync(Checkpoint, 0, -5));
    }

    [Fact]
    public async Task ListAsync_ReturnsKeysStartingWithPrefix_InOrdinalOrder()
    {
        var file = ScratchFile(10, seed: 7);
        string[] keys = ["jobs/a/y.bin", "jobs/a/x.bin", "jobs/a/sub/z.bin", "jobs/ab/w.bin", "datasets/d.bin"];
        foreach (var key in keys) await Store.PutFileAsync(key, file);

        Assert.Equal(["jobs/a/sub/z.bin", "jobs/a/x.bin", "jobs/a/y.bin"], await KeysAsync("jobs/a/"));
        Assert.Equal(["jobs/a/sub/z.bin", "jobs/a/x.bin", "jobs/a/y.bin", "jobs/ab/w.bin"], await KeysAsync("jobs/a"));
        Assert.Equal(keys.Order(StringComparer.Ordinal), await KeysAsync(""));
        Assert.Empty(await KeysAsync("nothing/"));
        var listed = await Store.ListAsync("datasets/").SingleAsync();
        Assert.Equal(10, listed.Size);
    }

    [Fact]
    public async Task DeleteAsync_RemovesOnlyThatKey_AndIgnoresMissingKeys()
    {
        var file = ScratchFile(10, seed: 8);
        await Store.PutFileAsync("jobs/a/one.bin", file);
        await Store.PutFileAsync("jobs/a/two.bin", file);

        await Store.DeleteAsync("jobs/a/one.bin");
        await Store.DeleteAsync("jobs/a/one.bin");
        await Store.DeleteAsync("never/was/there.bin");

        Assert.Null(await Store.GetInfoAsync("jobs/a/one.bin"));
        Assert.NotNull(await Store.GetInfoAsync("jobs/a/two.bin"));
        Assert.Equal(["jobs/a/two.bin"], await KeysAsync(""));
    }

    [Fact]
    public async Task MissingKey_GivesNullInfo_AndFileNotFoundOnReads_WithoutCreatingTheTarget()
    {
        var target = ScratchPath("never.bin");

        Assert.Null(await Store.GetInfoAsync("jobs/missing/model.safetensors"));
        var open = await Assert.ThrowsAsync<FileNotFoundException>(() => Store.OpenReadAsync("jobs/missing/model.safetensors"));
        var get = await Assert.ThrowsAsync<FileNotFoundException>(() => Store.GetFileAsync("jobs/missing/model.safetensors", target));

        Assert.Contains("jobs/missing/model.safetensors", open.Message);
        Assert.Contains("jobs/missing/model.safetensors", get.Message);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(target)!, "never*"));
    }

    [Theory]
    [InlineData("../outside.bin", "..")]
    [InlineData("jobs/../../outside.bin", "..")]
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("jobs\\a\\model.bin", "backslash")]
    [InlineData("jobs//model.bin", "empty folder")]
    [InlineData("jobs/./model.bin", "'.'")]
    [InlineData("jobs/a/", "ends with '/'")]
    [InlineData("", "empty")]
    [InlineData(".meta/sha256/x.json", ".meta")]
    public async Task EveryOperation_RejectsKeysThatEscapeOrAreMalformed(string key, string reason)
    {
        var file = ScratchFile(10, seed: 9);
        var errors = new List<ArgumentException>
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.PutFileAsync(key, file)),
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetInfoAsync(key)),
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.OpenReadAsync(key)),
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetFileAsync(key, ScratchPath("x"))),
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.DeleteAsync(key)),
        };
        Assert.All(errors, e => Assert.Contains(reason, e.Message));
        Assert.All(errors, e => Assert.Equal("key", e.ParamName));
    }

    [Theory]
    [InlineData("../")]
    [InlineData("/jobs")]
    [InlineData("jobs\\")]
    public async Task ListAsync_RejectsPrefixesThatEscape(string prefix)
    {
        var error = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.ListAsync(prefix).ToListAsync());
        Assert.Equal("prefix", error.ParamName);
    }

    [Fact]
    public async Task PutFileAsync_LargeFile_RoundTripsWithHashAndRangeAcrossParts()
    {
        const int size = 20 * 1024 * 1024 + 12_345;
        var source = ScratchFile(size, seed: 10);

        var put = await Store.PutFileAsync(Checkpoint, source);
        var copy = ScratchPath("large-copy.bin");
        await Store.GetFileAsync(Checkpoint, copy);
        const long aroundPartBoundary = 5L * 1024 * 1024 - 100;
        await using var range = await Store.OpenReadAsync(Checkpoint, aroundPartBoundary, 200);
        using var read = new MemoryStream();
        await range.CopyToAsync(read);

        Assert.Equal(size, put.Size);
        Assert.Equal(Sha256Of(source), put.Sha256);
        Assert.Equal(Sha256Of(source), (await Store.GetInfoAsync(Checkpoint))!.Sha256);
        Assert.Equal(Sha256Of(source), Sha256Of(copy));
        Assert.Equal(File.ReadAllBytes(source).AsSpan((int)aroundPartBoundary, 200).ToArray(), read.ToArray());
    }

    [Fact]
    public async Task GetFileAsync_ReplacesExistingTarget_AndLeavesNoTemporaryFiles()
    {
        var source = ScratchFile(5000, seed: 11);
        await Store.PutFileAsync(Checkpoint, source);
        var folder = Directory.CreateDirectory(ScratchPath("download")).FullName;
        var target = Path.Combine(folder, "model.safetensors");
        await File.WriteAllTextAsync(target, "an older checkpoint");

        await Store.GetFileAsync(Checkpoint, target);

        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(target));
        Assert.Equal([target], Directory.GetFiles(folder));
    }

    [Fact]
    public async Task IsReachableAsync_IsTrue_ForAWorkingStore() => Assert.True(await Store.IsReachableAsync());

    private async Task<List<string>> KeysAsync(string prefix) => await Store.ListAsync(prefix).Select(i => i.Key).ToListAsync();
}
