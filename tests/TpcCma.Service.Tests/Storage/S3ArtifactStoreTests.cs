using Amazon.S3.Model;
using TpcCma.Service.Storage;

namespace TpcCma.Service.Tests.Storage;

/// <summary>The store contract on a real S3 server (moto), plus what is particular to buckets: metadata, multipart, prefixes.</summary>
public sealed class S3ArtifactStoreTests(MotoServer moto) : ArtifactStoreContract, IClassFixture<MotoServer>
{
    private readonly string prefix = "deployments/test-" + Guid.NewGuid().ToString("N")[..12];

    protected override Task<IArtifactStore> CreateStoreAsync() => Task.FromResult<IArtifactStore>(S3ArtifactStore.Create(moto.Options(prefix)));

    [Fact]
    public async Task PutFileAsync_UploadsInParts_WhenFileReachesTheThreshold()
    {
        await Store.PutFileAsync("jobs/j1/model.safetensors", ScratchFile(16 * 1024 * 1024 + 1, seed: 30));
        await Store.PutFileAsync("jobs/j1/meta.json", ScratchFile(1000, seed: 31));
        using var raw = moto.RawClient();

        var large = await raw.GetObjectMetadataAsync(MotoServer.Bucket, $"{prefix}/jobs/j1/model.safetensors");
        var small = await raw.GetObjectMetadataAsync(MotoServer.Bucket, $"{prefix}/jobs/j1/meta.json");

        // S3 gives a multipart object the ETag "<md5 of part md5s>-<part count>": 16 MiB + 1 byte in 5 MiB parts is 4.
        Assert.EndsWith("-4\"", large.ETag);
        Assert.DoesNotContain("-", small.ETag);
    }

    [Fact]
    public async Task GetInfoAsync_TakesSha256FromObjectMetadata_AndGetFileRejectsContentThatDoesNotMatchIt()
    {
        using var raw = moto.RawClient();
        var put = new PutObjectRequest { BucketName = MotoServer.Bucket, Key = $"{prefix}/jobs/j2/model.safetensors", ContentBody = "not the recorded bytes" };
        put.Metadata["sha256"] = new string('a', 64);
        await raw.PutObjectAsync(put);
        var target = ScratchPath("corrupt.bin");

        var info = await Store.GetInfoAsync("jobs/j2/model.safetensors");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => Store.GetFileAsync("jobs/j2/model.safetensors", target));

        Assert.Equal(new string('a', 64), info!.Sha256);
        Assert.Contains("corrupt", error.Message);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(target)!, "corrupt*"));
    }

    [Fact]
    public async Task GetInfoAsync_HasNoSha256_ForObjectsWrittenByOtherTools()
    {
        using var raw = moto.RawClient();
        await raw.PutObjectAsync(new PutObjectRequest { BucketName = MotoServer.Bucket, Key = $"{prefix}/datasets/d.txt", ContentBody = "hello" });
        var target = ScratchPath("d.txt");

        var info = await Store.GetInfoAsync("datasets/d.txt");
        await Store.GetFileAsync("datasets/d.txt", target);

        Assert.Equal(5, info!.Size);
        Assert.Null(info.Sha256);
        Assert.Equal("hello", await File.ReadAllTextAsync(target));
    }

    [Fact]
    public async Task Prefix_KeepsStoresInOneBucketApart()
    {
        using var other = S3ArtifactStore.Create(moto.Options(prefix + "-other"));
        await other.PutFileAsync("jobs/j3/model.safetensors", ScratchFile(10, seed: 32));

        Assert.Null(await Store.GetInfoAsync("jobs/j3/model.safetensors"));
        Assert.Empty(await Store.ListAsync("").ToListAsync());
        Assert.Equal(["jobs/j3/model.safetensors"], await other.ListAsync("").Select(i => i.Key).ToListAsync());
    }

    [Fact]
    public async Task IsReachableAsync_IsFalse_ForAMissingBucketOrAServerThatDoesNotAnswer()
    {
        var missingBucket = moto.Options(prefix);
        missingBucket.Bucket = "no-such-bucket";
        var noServer = moto.Options(prefix);
        noServer.ServiceUrl = "http://127.0.0.1:9"; // discard port: nothing listens there
        using var wrongBucket = S3ArtifactStore.Create(missingBucket);
        using var deadServer = S3ArtifactStore.Create(noServer);

        Assert.False(await wrongBucket.IsReachableAsync());
        Assert.False(await deadServer.IsReachableAsync());
    }
}
