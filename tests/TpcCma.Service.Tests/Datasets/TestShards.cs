using System.Formats.Tar;
using System.Text;
using Amazon.S3.Model;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Data.Shards;
using TpcCma.Service.Tests.Storage;

namespace TpcCma.Service.Tests.Datasets;

/// <summary>WebDataset shards written for the service tests: small PNGs with captions and labels, or shards built member by member.</summary>
internal static class TestShards
{
    /// <summary>
    /// <paramref name="count"/> samples in shards of <paramref name="shardSize"/> under <paramref name="folder"/>: a 24 px square whose
    /// colour is the label (red, green, blue), captioned with it; returns the shard files.
    /// </summary>
    public static IReadOnlyList<string> Write(string folder, int count, int shardSize, Func<int, string?>? split = null)
    {
        string[] colours = ["red", "green", "blue"];
        Rgb24[] values = [new(220, 30, 30), new(30, 200, 40), new(40, 50, 230)];
        using var writer = new ShardWriter(folder, shardSize);
        for (var i = 0; i < count; i++)
        {
            var c = i % colours.Length;
            using var image = new Image<Rgb24>(24, 24, new Rgb24(245, 245, 245));
            for (var y = 4 + i % 5; y < 16 + i % 5; y++)
                for (var x = 3 + i % 7; x < 15 + i % 7; x++)
                    image[x, y] = values[c];
            using var png = new MemoryStream();
            image.SaveAsPng(png);
            writer.Write($"s{i:D5}", png.ToArray(), "png", [$"a {colours[c]} square", $"{colours[c]}"], colours[c], split?.Invoke(i));
        }
        writer.Dispose();
        return writer.ShardFiles;
    }

    /// <summary>A shard written member by member, for shards no writer would make.</summary>
    public static void Tar(string path, params (string Member, byte[] Data)[] members)
    {
        using var stream = File.Create(path);
        using var tar = new TarWriter(stream, TarEntryFormat.Ustar);
        foreach (var (member, data) in members)
            tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, member) { DataStream = new MemoryStream(data) });
    }

    public static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>The bytes of the first image member of a shard.</summary>
    public static byte[] FirstImage(string shard)
    {
        using var stream = File.OpenRead(shard);
        using var tar = new TarReader(stream);
        while (tar.GetNextEntry() is { } entry)
        {
            if (!entry.Name.EndsWith(".png", StringComparison.Ordinal)) continue;
            using var data = new MemoryStream();
            entry.DataStream!.CopyTo(data);
            return data.ToArray();
        }
        throw new InvalidDataException($"{shard} holds no image");
    }

    /// <summary>Uploads shard files to the moto bucket under <paramref name="prefix"/>.</summary>
    public static async Task UploadAsync(MotoServer moto, string prefix, IEnumerable<string> files)
    {
        using var raw = moto.RawClient();
        foreach (var file in files)
            await raw.PutObjectAsync(new PutObjectRequest { BucketName = MotoServer.Bucket, Key = $"{prefix}/{Path.GetFileName(file)}", FilePath = file });
    }

    /// <summary>Settings that let a node read s3:// shards from moto while its artifacts stay local.</summary>
    public static Dictionary<string, string> S3Settings(string serviceUrl) => new()
    {
        ["Storage:S3:ServiceUrl"] = serviceUrl, ["Storage:S3:AccessKey"] = "test", ["Storage:S3:SecretKey"] = "test",
    };
}
