namespace TpcCma.Service.Storage;

/// <summary>
/// The rules for artifact keys, the same for every store so a key valid on one node is valid on all:
/// a relative path of non-empty '/'-separated segments, no '.' or '..', no backslash, no control characters,
/// at most 1024 characters (S3's limit), and not under the local store's reserved <c>.meta/</c> folder.
/// </summary>
public static class ArtifactKey
{
    public const int MaxLength = 1024;

    /// <summary>Folder at the local store's root that holds its own bookkeeping (hashes, temporary files).</summary>
    public const string ReservedFolder = ".meta";

    public static void Validate(string key, string parameterName = "key")
    {
        if (string.IsNullOrEmpty(key)) throw new ArgumentException("artifact key is empty", parameterName);
        CheckCharacters(key, parameterName);
        if (key.EndsWith('/')) throw new ArgumentException($"artifact key '{key}' ends with '/': a key names a file, not a folder", parameterName);
        CheckSegments(key, key.Split('/'), parameterName);
    }

    /// <summary>A listing prefix: empty (everything), a folder (<c>jobs/abc/</c>) or any start of a key (<c>jobs/ab</c>).</summary>
    public static void ValidatePrefix(string prefix, string parameterName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, parameterName);
        if (prefix.Length == 0) return;
        CheckCharacters(prefix, parameterName);
        var segments = prefix.Split('/');
        CheckSegments(prefix, prefix.EndsWith('/') ? segments[..^1] : segments, parameterName);
    }

    private static void CheckCharacters(string key, string parameterName)
    {
        if (key.Length > MaxLength) throw new ArgumentException($"artifact key is {key.Length} characters long; at most {MaxLength} are allowed", parameterName);
        if (key.Contains('\\')) throw new ArgumentException($"artifact key '{key}' contains a backslash: use '/' between folders", parameterName);
        if (key.StartsWith('/')) throw new ArgumentException($"artifact key '{key}' is absolute: keys are relative to the store's root", parameterName);
        if (key.Any(char.IsControl)) throw new ArgumentException($"artifact key '{key.ReplaceLineEndings(" ")}' contains a control character", parameterName);
    }

    private static void CheckSegments(string key, string[] segments, string parameterName)
    {
        foreach (var segment in segments)
        {
            if (segment.Length == 0) throw new ArgumentException($"artifact key '{key}' has an empty folder name ('//' or a leading '/')", parameterName);
            if (segment is "." or "..") throw new ArgumentException($"artifact key '{key}' contains '{segment}': keys may not leave or name their folder", parameterName);
        }
        if (segments[0] == ReservedFolder) throw new ArgumentException($"artifact key '{key}' is under '{ReservedFolder}/', which the store keeps for itself", parameterName);
    }
}
