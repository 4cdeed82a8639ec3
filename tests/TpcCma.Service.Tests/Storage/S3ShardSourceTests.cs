using Amazon.S3.Model;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Data;
using TpcCma.Data.Shards;
using TpcCma.Service.Storage;

namespace TpcCma.Service.Tests.Storage;

/// <summary>WebDataset shards read straight from a real S3 server (moto), with the artifact store's settings.</summary>
public sealed class S3ShardSourceTests(MotoServer moto) : IClassFixture<MotoServer>, IDisposable
{
    private readonly string prefix = "shards-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string folder = Directory.CreateTempSubdirectory("tpccma-s3shards-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private async Task<string> UploadShardsAsync(int count, int shardSize)
    {
        using (var writer = new ShardWriter(folder, shardSize))
        {
            for (var i = 0; i < count; i++)
            {
                using var image = new Image<Rgb24>(10, 10, new Rgb24((byte)(i * 40), 80, 160));
                using var png = new MemoryStream();
                image.SaveAsPng(png);
                writer.Write($"k{i:D4}", png.ToArray(), "png", [$"caption {i}"], i % 2 == 0 ? "a" : "b");
            }
        }
        using var raw = moto.RawClient();
        foreach (var file in Directory.GetFiles(folder, "*.tar"))
            await raw.PutObjectAsync(new PutObjectRequest { BucketName = MotoServer.Bucket, Key = $"{prefix}/{Path.GetFileName(file)}", FilePath = file });
        return $"s3://{MotoServer.Bucket}/{prefix}/{{00000..{(count - 1) / shardSize:D5}}}.tar";
    }

    [Fact]
    public async Task ShardedLoader_ReadsS3Shards_AsTheSameSamplesAsLocalCopies()
    {
        var list = await UploadShardsAsync(7, shardSize: 3);
        using var source = S3ShardSource.Create(moto.Options(prefix));
        var remote = ShardSet.Open(list, new ShardSources(source));
        var local = ShardSet.Open($"{folder}/{{00000..00002}}.tar");
        var processor = new ClipImageProcessor(ImageProcessorConfig.Clip(8));
        var options = new LoaderOptions(3, Seed: 5, DropLast: false);

        var fromS3 = new ShardedLoader(remote, processor, options).ReadEpoch(1).Select(Values).ToList();
        var fromDisk = new ShardedLoader(local, processor, options).ReadEpoch(1).Select(Values).ToList();

        Assert.Equal(7, fromS3.Sum(b => b.Ids.Split(',').Length));
        Assert.Equal(fromDisk, fromS3, (a, b) => a.Ids == b.Ids && a.Pixels.SequenceEqual(b.Pixels));
    }

    [Fact]
    public async Task Open_MissingObject_NamesTheShard()
    {
        var list = await UploadShardsAsync(2, shardSize: 2);
        using var source = S3ShardSource.Create(moto.Options(prefix));
        var set = ShardSet.Open(list.Replace("{00000..00000}", "{00000..00001}"), new ShardSources(source));
        var report = ShardScanner.Scan(set);
        var error = Assert.Single(report.Errors);
        Assert.Equal("00001.tar", error.Location);
        Assert.Contains($"no object s3://{MotoServer.Bucket}/{prefix}/00001.tar", error.Message);
    }

    [Fact]
    public void Open_UnreachableServer_NamesTheShardAndTheEndpoint()
    {
        var options = moto.Options(prefix);
        options.ServiceUrl = "http://127.0.0.1:9"; // discard port: nothing listens
        using var source = S3ShardSource.Create(options);
        var set = ShardSet.Open($"s3://{MotoServer.Bucket}/{prefix}/{{00000..00000}}.tar", new ShardSources(source));
        var ex = Assert.Throws<ShardReadException>(() => set.ReadShard(0).ToList());
        Assert.StartsWith("00000.tar: cannot reach S3", ex.Message);
        Assert.Contains("127.0.0.1:9", ex.Message);
    }

    private static (string Ids, float[] Pixels) Values(ImageTextBatch batch)
    {
        using (batch) return (string.Join(",", batch.Ids), batch.Pixels.data<float>().ToArray());
    }
}
