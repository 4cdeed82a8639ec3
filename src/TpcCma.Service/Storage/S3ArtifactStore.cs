using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace TpcCma.Service.Storage;

/// <summary>
/// Artifacts as objects in an S3-compatible bucket, shared by every node. The SHA-256 of each upload is stored
/// as object metadata (<c>x-amz-meta-sha256</c>) so <see cref="GetInfoAsync"/> answers from a HEAD request;
/// files from <see cref="S3StorageOptions.MultipartThresholdMiB"/> up go in parts, several at once.
/// </summary>
public sealed class S3ArtifactStore : IArtifactStore, IDisposable
{
    private const string Sha256Metadata = "sha256";
    private const long MiB = 1 << 20;

    private readonly IAmazonS3 client;
    private readonly S3StorageOptions options;
    private readonly string keyPrefix;

    public S3ArtifactStore(IAmazonS3 client, S3StorageOptions options)
    {
        if (options.Problem() is { } problem) throw new InvalidOperationException(problem);
        this.client = client;
        this.options = options;
        keyPrefix = options.Prefix.Length == 0 ? "" : options.Prefix.TrimEnd('/') + "/";
    }

    /// <summary>A store with its own client built from the settings.</summary>
    public static S3ArtifactStore Create(S3StorageOptions options)
    {
        if (options.Problem() is { } problem) throw new InvalidOperationException(problem);
        return new S3ArtifactStore(CreateClient(options), options);
    }

    /// <summary>A client for the configured server and credentials (also what reads <c>s3://</c> data set shards).</summary>
    public static AmazonS3Client CreateClient(S3StorageOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            // The SDK's default CRC trailers are not understood by every S3-compatible server; we keep our own SHA-256.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl.Length > 0) config.ServiceURL = options.ServiceUrl;
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        return options.AccessKey.Length > 0
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config);
    }

    public string Bucket => options.Bucket;

    /// <summary>The object key in the bucket for an artifact key (the configured prefix in front).</summary>
    public string ObjectKey(string key)
    {
        ArtifactKey.Validate(key);
        return keyPrefix + key;
    }

    public async Task<ArtifactInfo> PutFileAsync(string key, string localPath, CancellationToken ct = default)
    {
        var objectKey = ObjectKey(key);
        // Hash first: metadata travels with the first request, and the local read is cheap next to the upload.
        var (sha256, size) = await ArtifactFiles.HashFileAsync(localPath, ct);
        if (size < options.MultipartThresholdMiB * MiB)
        {
            var put = new PutObjectRequest { BucketName = Bucket, Key = objectKey, FilePath = Path.GetFullPath(localPath) };
            put.Metadata[Sha256Metadata] = sha256;
            await client.PutObjectAsync(put, ct);
        }
        else
        {
            await PutMultipartAsync(objectKey, Path.GetFullPath(localPath), size, sha256, ct);
        }
        return await GetInfoAsync(key, ct) ?? throw new IOException($"artifact '{key}' was uploaded to bucket '{Bucket}' but is not there");
    }

    private async Task PutMultipartAsync(string objectKey, string path, long size, string sha256, CancellationToken ct)
    {
        var start = new InitiateMultipartUploadRequest { BucketName = Bucket, Key = objectKey };
        start.Metadata[Sha256Metadata] = sha256;
        var uploadId = (await client.InitiateMultipartUploadAsync(start, ct)).UploadId;
        try
        {
            var partSize = options.PartSizeMiB * MiB;
            var partCount = (int)((size + partSize - 1) / partSize);
            var etags = new PartETag[partCount];
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.UploadConcurrency, CancellationToken = ct };
            await Parallel.ForEachAsync(Enumerable.Range(0, partCount), parallel, async (index, token) =>
            {
                var position = index * partSize;
                var part = await client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = Bucket, Key = objectKey, UploadId = uploadId, PartNumber = index + 1,
                    FilePath = path, FilePosition = position, PartSize = Math.Min(partSize, size - position),
                    IsLastPart = index == partCount - 1,
                }, token);
                etags[index] = new PartETag(index + 1, part.ETag);
            });
            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Bucket, Key = objectKey, UploadId = uploadId, PartETags = [.. etags],
            }, ct);
        }
        catch
        {
            // An abandoned upload keeps its parts (and their cost) until aborted; the caller's token may be spent already.
            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = Bucket, Key = objectKey, UploadId = uploadId }, CancellationToken.None);
            throw;
        }
    }

    public async Task<ArtifactInfo?> GetInfoAsync(string key, CancellationToken ct = default)
    {
        var objectKey = ObjectKey(key);
        try
        {
            var head = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = objectKey }, ct);
            var sha256 = head.Metadata[Sha256Metadata];
            return new ArtifactInfo(key, head.ContentLength, string.IsNullOrEmpty(sha256) ? null : sha256, ToOffset(head.LastModified));
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        var info = await GetInfoAsync(key, ct) ?? throw NotFound(key);
        var count = ArtifactFiles.RangeLength(key, info.Size, offset, length);
        if (count == 0) return new MemoryStream([], writable: false);
        var request = new GetObjectRequest { BucketName = Bucket, Key = ObjectKey(key), ByteRange = new ByteRange(offset, offset + count - 1) };
        try
        {
            var response = await client.GetObjectAsync(request, ct);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw NotFound(key, ex);
        }
    }

    public async Task GetFileAsync(string key, string localPath, CancellationToken ct = default)
    {
        GetObjectResponse response;
        try { response = await client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = ObjectKey(key) }, ct); }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound) { throw NotFound(key, ex); }
        using (response)
        {
            var sha256 = response.Metadata[Sha256Metadata];
            await ArtifactFiles.DownloadAtomicallyAsync(response.ResponseStream, key, localPath, string.IsNullOrEmpty(sha256) ? null : sha256, ct);
        }
    }

    public async IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArtifactKey.ValidatePrefix(prefix);
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = keyPrefix + prefix };
        while (true)
        {
            var page = await client.ListObjectsV2Async(request, ct);
            foreach (var item in page.S3Objects ?? [])
                yield return new ArtifactInfo(item.Key[keyPrefix.Length..], item.Size ?? 0, null, ToOffset(item.LastModified));
            if (page.IsTruncated != true) yield break;
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken ct = default) =>
        await client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = ObjectKey(key) }, ct);

    public async Task<bool> IsReachableAsync(CancellationToken ct = default)
    {
        // Listing one key needs only the permission the store needs anyway, and fails fast on a missing bucket.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = keyPrefix, MaxKeys = 1 }, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException
                                   || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return false;
        }
    }

    public void Dispose() => client.Dispose();

    private FileNotFoundException NotFound(string key, Exception? inner = null) =>
        new($"artifact '{key}' does not exist in bucket '{Bucket}'", keyPrefix + key, inner);

    private static DateTimeOffset ToOffset(DateTime? time) =>
        time is { } t ? new DateTimeOffset(t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime()) : DateTimeOffset.MinValue;
}
