namespace TpcCma.Service.Storage;

/// <summary>Registers the <see cref="IArtifactStore"/> chosen by <c>Storage:Kind</c>; a wrong setting stops the start with its name.</summary>
public static class ArtifactStoreRegistration
{
    public static IServiceCollection AddArtifactStore(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        switch (options.Kind.Trim().ToLowerInvariant())
        {
            case "local":
                // Same root and same resolution (against the working directory) as the service's ArtifactPaths.
                var root = Path.GetFullPath(configuration["Service:ArtifactRoot"] ?? ".local/artifacts", Environment.CurrentDirectory);
                services.AddSingleton<IArtifactStore>(new LocalArtifactStore(root));
                break;
            case "s3":
                if (options.S3.Problem() is { } problem) throw new InvalidOperationException(problem);
                services.AddSingleton<IArtifactStore>(_ => S3ArtifactStore.Create(options.S3));
                break;
            default:
                throw new InvalidOperationException($"Storage:Kind is '{options.Kind}'; use 'local' or 's3'");
        }
        // Only a shared store moves checkpoints: the local store's root is the job folders themselves.
        var shared = options.Kind.Trim().Equals("s3", StringComparison.OrdinalIgnoreCase);
        services.AddSingleton(sp => new JobArtifactSync(sp.GetRequiredService<IArtifactStore>(), sp.GetRequiredService<Hosting.ArtifactPaths>(), shared,
            sp.GetRequiredService<ILogger<JobArtifactSync>>()));
        return services;
    }
}
