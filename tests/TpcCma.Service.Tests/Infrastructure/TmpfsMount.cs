using System.Diagnostics;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>A size-limited tmpfs mounted over a folder, so a test can fill a real disk; unmounted on dispose. Needs root.</summary>
public sealed class TmpfsMount : IDisposable
{
    private readonly string target;

    private TmpfsMount(string target) => this.target = target;

    /// <summary>Why no tmpfs can be mounted here (not root, no mount capability in this container), or null when one can.</summary>
    public static string? Unavailable { get; } = Probe();

    public static TmpfsMount Over(string folder, int sizeMiB)
    {
        Run("mount", "-t", "tmpfs", "-o", $"size={sizeMiB}m", "tmpfs", folder);
        return new TmpfsMount(folder);
    }

    /// <summary>Writes <paramref name="path"/> until the file system refuses more (to the last page); returns the bytes written.</summary>
    public static long FillUp(string path)
    {
        long written = 0;
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        foreach (var size in new[] { 1 << 20, 4096 })
        {
            var chunk = new byte[size];
            try
            {
                while (true)
                {
                    file.Write(chunk);
                    written += size;
                }
            }
            catch (IOException) { }   // ENOSPC: no room for another chunk of this size
        }
        return written;
    }

    public void Dispose()
    {
        // Lazily when something still holds a file there: the folder is detached now, freed when released.
        try { Run("umount", target); }
        catch (InvalidOperationException) { Run("umount", "-l", target); }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess) return "mounting a tmpfs needs root on Linux";
        var probe = Directory.CreateTempSubdirectory("tpccma-tmpfs-probe-").FullName;
        try
        {
            using (Over(probe, 1)) { }
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"cannot mount a tmpfs here: {ex.Message}";
        }
        finally { try { Directory.Delete(probe); } catch (IOException) { } }
    }

    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        output.Wait();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {error.Trim()}");
    }
}

/// <summary>A fact that fills a real disk: skipped, saying why, where no tmpfs can be mounted.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (TmpfsMount.Unavailable is { } reason) Skip = reason;
    }
}
