using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TpcCma.Service.Storage;

namespace TpcCma.Service.Tests.Storage;

/// <summary><c>Storage:Kind</c> picks the store; wrong settings stop the start with the setting's name.</summary>
public sealed class ArtifactStoreRegistrationTests
{
    private static IServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddArtifactStore(configuration).BuildServiceProvider();
    }

    [Fact]
    public void AddArtifactStore_UsesLocalFolderAtArtifactRoot_ByDefault()
    {
        var root = Path.Combine(Path.GetTempPath(), "tpccma-registration-" + Guid.NewGuid().ToString("N"));

        var store = Build(new() { ["Service:ArtifactRoot"] = root }).GetRequiredService<IArtifactStore>();

        Assert.Equal(root, Assert.IsType<LocalArtifactStore>(store).Root);
    }

    [Fact]
    public void AddArtifactStore_UsesS3_WhenKindIsS3()
    {
        using var provider = (ServiceProvider)Build(new()
        {
            ["Storage:Kind"] = "S3", ["Storage:S3:ServiceUrl"] = "http://127.0.0.1:9000", ["Storage:S3:Bucket"] = "artifacts",
            ["Storage:S3:AccessKey"] = "k", ["Storage:S3:SecretKey"] = "s", ["Storage:S3:Prefix"] = "prod",
        });

        var store = Assert.IsType<S3ArtifactStore>(provider.GetRequiredService<IArtifactStore>());

        Assert.Equal("artifacts", store.Bucket);
        Assert.Equal("prod/jobs/j/model.safetensors", store.ObjectKey("jobs/j/model.safetensors"));
    }

    [Theory]
    [InlineData("Storage:Kind", "azure", "Storage:Kind is 'azure'")]
    [InlineData("Storage:S3:Bucket", "", "Storage:S3:Bucket is not set")]
    [InlineData("Storage:S3:ServiceUrl", "minio:9000", "Storage:S3:ServiceUrl 'minio:9000'")]
    [InlineData("Storage:S3:SecretKey", "", "must be set together")]
    [InlineData("Storage:S3:PartSizeMiB", "2", "Storage:S3:PartSizeMiB is 2")]
    [InlineData("Storage:S3:Prefix", "../other", "Storage:S3:Prefix '../other'")]
    public void AddArtifactStore_NamesTheWrongSetting(string name, string value, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Kind"] = "s3", ["Storage:S3:ServiceUrl"] = "http://127.0.0.1:9000", ["Storage:S3:Bucket"] = "artifacts",
            ["Storage:S3:AccessKey"] = "k", ["Storage:S3:SecretKey"] = "s",
        };
        settings[name] = value;

        var error = Assert.Throws<InvalidOperationException>(() => Build(settings));

        Assert.Contains(message, error.Message);
    }
}
