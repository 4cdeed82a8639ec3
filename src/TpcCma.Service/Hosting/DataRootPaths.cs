namespace TpcCma.Service.Hosting;

/// <summary>User-given paths are relative to a configured root and may not leave it, by <c>..</c>, absolute paths or symlinks.</summary>
public static class DataRootPaths
{
    public static string Resolve(string root, string relative)
    {
        if (string.IsNullOrWhiteSpace(relative)) throw new ArgumentException("must not be empty");
        if (Path.IsPathRooted(relative)) throw new ArgumentException($"'{relative}' must be relative to the data root");
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (!IsUnder(root, full)) throw new ArgumentException($"'{relative}' leaves the data root");
        if (!File.Exists(full) && !Directory.Exists(full)) throw new FileNotFoundException($"'{relative}' does not exist under the data root");
        // A symlink anywhere on the way may point out of the root: compare the fully resolved target too.
        var resolved = ResolveLinks(full);
        if (!IsUnder(ResolveLinks(root), resolved)) throw new ArgumentException($"'{relative}' leaves the data root through a symbolic link");
        return full;
    }

    private static bool IsUnder(string root, string path)
    {
        var r = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        return path == r || path.StartsWith(r + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static string ResolveLinks(string path)
    {
        var parts = Path.GetFullPath(path).Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var current = Path.DirectorySeparatorChar.ToString();
        foreach (var part in parts)
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target) current = target.FullName;
        }
        return current;
    }
}
