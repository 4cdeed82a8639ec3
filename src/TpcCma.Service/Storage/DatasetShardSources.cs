using TpcCma.Data.Shards;

namespace TpcCma.Service.Storage;

/// <summary>
/// Where this node reads data set shards from: local files under the data root, and <c>s3://</c> objects with the
/// artifact store's S3 client settings (<c>Storage:S3</c>) when the store is S3 or an S3 endpoint is configured.
/// One per process: registration probes and training runs read through the same readers.
/// </summary>
public sealed class DatasetShardSources : IDisposable
{
    private readonly S3ShardSource? s3;

    private DatasetShardSources(S3ShardSource? s3)
    {
        this.s3 = s3;
        Sources = s3 is null ? ShardSources.LocalOnly : new ShardSources(s3);
    }

    public ShardSources Sources { get; }

    /// <summary>Whether <c>s3://</c> shards can be read here.</summary>
    public bool ReadsS3 => s3 is not null;

    /// <summary>
    /// S3 shards are read when <c>Storage:Kind</c> is <c>s3</c>, or when <c>Storage:S3:ServiceUrl</c> is set while artifacts
    /// stay local (data in a bucket, checkpoints on disk). The bucket is taken from each shard's URL, not from the settings.
    /// </summary>
    public static DatasetShardSources From(StorageOptions options)
    {
        var s3 = options.Kind.Trim().Equals("s3", StringComparison.OrdinalIgnoreCase) || options.S3.ServiceUrl.Length > 0;
        return new DatasetShardSources(s3 ? S3ShardSource.Create(options.S3) : null);
    }

    public void Dispose() => s3?.Dispose();
}
