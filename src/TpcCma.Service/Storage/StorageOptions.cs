namespace TpcCma.Service.Storage;

/// <summary>Which artifact store this process uses: the <c>Storage</c> section (<c>Storage__Kind=s3</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary><c>local</c> (files under <c>Service:ArtifactRoot</c>, the default) or <c>s3</c> (an S3-compatible bucket).</summary>
    public string Kind { get; set; } = "local";

    public S3StorageOptions S3 { get; set; } = new();
}

/// <summary>The <c>Storage:S3</c> section: any S3-compatible server (AWS, MinIO, Ceph, moto).</summary>
public sealed class S3StorageOptions
{
    /// <summary>Endpoint, e.g. <c>http://minio:9000</c>; empty means AWS itself in <see cref="Region"/>.</summary>
    public string ServiceUrl { get; set; } = "";

    public string Region { get; set; } = "us-east-1";

    public string Bucket { get; set; } = "";

    /// <summary>Empty key and secret: the AWS SDK's own chain (environment, web identity, instance profile).</summary>
    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    /// <summary>Folder inside the bucket under which every key lives, so one bucket can serve several deployments.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Bucket in the path (<c>host/bucket/key</c>) rather than the host name: what MinIO and most self-hosted servers need.</summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>Files at least this large go up in parts (S3 allows 5 GB in one request, but a failed part is cheaper to retry).</summary>
    public int MultipartThresholdMiB { get; set; } = 64;

    /// <summary>Size of each part; S3's minimum is 5 MiB and its maximum part count 10,000 (so 16 MiB parts reach 160 GB).</summary>
    public int PartSizeMiB { get; set; } = 16;

    /// <summary>Parts uploaded at once.</summary>
    public int UploadConcurrency { get; set; } = 4;

    /// <summary>Names the first setting that is wrong, or null when the section can be used.</summary>
    public string? Problem()
    {
        if (string.IsNullOrWhiteSpace(Bucket)) return "Storage:S3:Bucket is not set (appsettings.json or Storage__S3__Bucket)";
        if (ServiceUrl.Length > 0 && !(Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
            return $"Storage:S3:ServiceUrl '{ServiceUrl}' is not an http(s) URL such as http://minio:9000";
        if (string.IsNullOrEmpty(AccessKey) != string.IsNullOrEmpty(SecretKey)) return "Storage:S3:AccessKey and Storage:S3:SecretKey must be set together";
        if (PartSizeMiB is < 5 or > 5120) return $"Storage:S3:PartSizeMiB is {PartSizeMiB}; S3 parts are 5 to 5120 MiB";
        if (MultipartThresholdMiB < PartSizeMiB) return $"Storage:S3:MultipartThresholdMiB ({MultipartThresholdMiB}) is below PartSizeMiB ({PartSizeMiB})";
        if (UploadConcurrency is < 1 or > 64) return $"Storage:S3:UploadConcurrency is {UploadConcurrency}; use 1 to 64";
        try { ArtifactKey.ValidatePrefix(Prefix.Length == 0 ? "" : Prefix.TrimEnd('/') + "/", "Storage:S3:Prefix"); }
        catch (ArgumentException ex) { return $"Storage:S3:Prefix '{Prefix}' is not a valid folder: {ex.Message}"; }
        return null;
    }
}
