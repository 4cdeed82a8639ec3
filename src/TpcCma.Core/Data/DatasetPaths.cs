namespace TpcCma.Data;

/// <summary>Resolves image paths from a manifest so that none can reach outside the dataset root.</summary>
internal static class DatasetPaths
{
    /// <summary>
    /// The absolute path of <paramref name="relative"/> under <paramref name="baseDir"/>, or null with the reason when it
    /// is absolute, uses <c>..</c>, or passes through a symbolic link that points outside <paramref name="root"/>.
    /// </summary>
    public static string? Resolve(string root, string baseDir, string relative, out string? error)
    {
        error = null;
        if (relative.Length == 0) { error = "empty image path"; return null; }
        if (Path.IsPathRooted(relative) || relative.StartsWith('\\') || (relative.Length > 1 && relative[1] == ':'))
        {
            error = $"image path '{relative}' is absolute; it must be relative to the dataset root";
            return null;
        }
        if (relative.Split('/', '\\').Any(segment => segment == ".."))
        {
            error = $"image path '{relative}' uses '..' and may leave the dataset root";
            return null;
        }
        var full = Path.GetFullPath(Path.Combine(baseDir, relative));
        if (!IsInside(root, full))
        {
            error = $"image path '{relative}' resolves outside the dataset root";
            return null;
        }
        // Walk each existing component below the root: a link is fine only if its final target stays inside.
        var current = root;
        foreach (var segment in Path.GetRelativePath(root, full).Split(Path.DirectorySeparatorChar))
        {
            current = Path.Combine(current, segment);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (!info.Exists || info.LinkTarget is null) continue;
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            if (target is null || !IsInside(root, Path.GetFullPath(target.FullName)))
            {
                error = $"image path '{relative}' goes through symbolic link '{Path.GetRelativePath(root, current)}' that points outside the dataset root";
                return null;
            }
        }
        return full;
    }

    /// <summary>Whether <paramref name="path"/> (absolute, normalised) lies strictly inside <paramref name="root"/>.</summary>
    public static bool IsInside(string root, string path)
    {
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, StringComparison.Ordinal);
    }
}
