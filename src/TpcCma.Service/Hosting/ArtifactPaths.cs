namespace TpcCma.Service.Hosting;

/// <summary>Where checkpoints and datasets live on this node (the local artifact store).</summary>
public sealed class ArtifactPaths(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string JobDirectory(Guid jobId) => Path.Combine(Root, "jobs", jobId.ToString("N"));

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
