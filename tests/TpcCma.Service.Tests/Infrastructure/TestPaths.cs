namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>The repository root and the shared reference data beside the checkout (<c>TPCCMA_REFDATA</c> overrides).</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string RefData(params string[] parts)
    {
        var root = Environment.GetEnvironmentVariable("TPCCMA_REFDATA") ?? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "refdata"));
        return Path.Combine([root, .. parts]);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TpcCma.Service.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("TpcCma.Service.sln not found above " + AppContext.BaseDirectory);
    }
}
