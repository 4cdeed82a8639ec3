using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using TpcCma.Data;
using TpcCma.Data.Shards;

namespace TpcCma.Service.Storage;

/// <summary>
/// Reads <c>s3://bucket/key</c> data set shards as streams, with the client and settings of the artifact store
/// (<c>Storage:S3</c>: endpoint, region, credentials), so a deployment configures S3 once. Every failure names the shard.
/// </summary>
public sealed class S3ShardSource(IAmazonS3 client) : IShardSource, IDisposable
{
    private const string Scheme = "s3://";

    /// <summary>A source with its own client for the configured server (the bucket comes from each shard's URL).</summary>
    public static S3ShardSource Create(S3StorageOptions options) => new(S3ArtifactStore.CreateClient(options));

    public bool Handles(string location) => location.StartsWith(Scheme, StringComparison.Ordinal);

    public Stream Open(ShardRef shard, CancellationToken ct)
    {
        var (bucket, key) = Parse(shard);
        try
        {
            // The data loader reads shards on its own threads, synchronously, one stream at a time per thread.
            var response = client.GetObjectAsync(bucket, key, ct).GetAwaiter().GetResult();
            return new ResponseStream(response);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.NotFound)
        {
            throw new ShardReadException(shard.Name, null, DatasetErrorKind.MissingFile, $"no object {shard.Location} ({ex.ErrorCode})", ex);
        }
        catch (AmazonS3Exception ex)
        {
            throw new ShardReadException(shard.Name, null, DatasetErrorKind.MissingFile, $"cannot read {shard.Location}: {(int)ex.StatusCode} {ex.ErrorCode} {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is AmazonClientException or HttpRequestException or IOException or System.Net.Sockets.SocketException)
        {
            throw new ShardReadException(shard.Name, null, DatasetErrorKind.MissingFile,
                $"cannot reach S3 for {shard.Location} ({client.Config.ServiceURL ?? client.Config.RegionEndpoint?.SystemName}): {ex.Message}", ex);
        }
    }

    private static (string Bucket, string Key) Parse(ShardRef shard)
    {
        var rest = shard.Location[Scheme.Length..];
        var slash = rest.IndexOf('/');
        return slash > 0 && slash < rest.Length - 1
            ? (rest[..slash], rest[(slash + 1)..])
            : throw new ShardReadException(shard.Name, null, DatasetErrorKind.MissingFile, $"'{shard.Location}' is not an s3://bucket/key URL");
    }

    public void Dispose() => client.Dispose();

    /// <summary>The object's body; disposing it releases the response (and its connection).</summary>
    private sealed class ResponseStream(Amazon.S3.Model.GetObjectResponse response) : Stream
    {
        private readonly Stream body = response.ResponseStream;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => response.ContentLength;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => body.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => body.Read(buffer);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) response.Dispose();
            base.Dispose(disposing);
        }
    }
}
