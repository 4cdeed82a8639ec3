namespace TpcCma.Core.Tests;

/// <summary>Locates <c>../shared/refdata</c> beside the checkout (or <c>TPCCMA_REFDATA</c>), the trusted reference outputs.</summary>
public static class RefData
{
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>The repository root: the folder holding TpcCma.Service.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "TpcCma.Service.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("TpcCma.Service.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Find()
    {
        var env = Environment.GetEnvironmentVariable("TPCCMA_REFDATA");
        var path = env ?? System.IO.Path.GetFullPath(System.IO.Path.Combine(FindRepoRoot(), "..", "shared", "refdata"));
        return Directory.Exists(path) ? path : throw new DirectoryNotFoundException($"reference data not found at {path} (set TPCCMA_REFDATA)");
    }
}
