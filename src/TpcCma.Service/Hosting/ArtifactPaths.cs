namespace TpcCma.Service.Hosting;

/// <summary>Where checkpoints, tokenizers and reports of jobs live on this node (the local artifact store).</summary>
public sealed class ArtifactPaths(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Relative to the root, the form stored in the database, so the root can move.</summary>
    public static string JobKey(Guid jobId) => $"jobs/{jobId:N}";

    public string JobDirectory(Guid jobId) => Resolve(JobKey(jobId));

    public string CheckpointDirectory(Guid jobId) => Path.Combine(JobDirectory(jobId), "checkpoints");

    public string TokenizerDirectory(Guid jobId) => Path.Combine(JobDirectory(jobId), "tokenizer");

    /// <summary>A stored relative location as a path under the root; anything that would leave the root is refused.</summary>
    public string Resolve(string key)
    {
        var full = Path.GetFullPath(Path.Combine(Root, key));
        if (!full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && full != Root)
            throw new ArgumentException($"artifact location '{key}' is outside the artifact root");
        return full;
    }

    public string KeyOf(string path) => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');

    public bool IsWritable()
    {
        try
        {
            Directory.CreateDirectory(Root);
            var probe = Path.Combine(Root, $".ready-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
