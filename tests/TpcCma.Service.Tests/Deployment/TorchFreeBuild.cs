using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TpcCma.Service.Tests.Infrastructure;

namespace TpcCma.Service.Tests.Deployment;

/// <summary>
/// The service's build output as the API image holds it: everything but TorchSharp's native libraries. Made from this
/// test's own output (a <c>-p:TorchBackend=none</c> publish is the real source but takes minutes): every file is copied
/// into a new folder except the native assets that <c>TpcCma.Service.deps.json</c> lists for TorchSharp and the libtorch
/// packages (plus the Debian compatibility shim the build adds beside them), and the copy's deps.json no longer names
/// them, which is what a TorchBackend=none publish writes. Copies, not links: the host resolves a linked
/// <c>TpcCma.Service.dll</c> to its target and would run from the original folder, natives and all. Left out as well,
/// to copy 60 MB rather than 300: the test host's browser driver (<c>.playwright</c>) and other platforms' natives.
/// </summary>
public sealed class TorchFreeBuild : IDisposable
{
    private const string DepsFile = "TpcCma.Service.deps.json";
    /// <summary>Added by build/torchsharp-compat/apply.sh beside libLibTorchSharp.so; not in any deps.json.</summary>
    private const string CompatShim = "libtpccma_ios_base_library_init.so";

    public string Directory { get; }
    /// <summary>The native files left out, relative to the build output.</summary>
    public IReadOnlyList<string> Removed { get; }

    private TorchFreeBuild(string directory, IReadOnlyList<string> removed)
    {
        Directory = directory;
        Removed = removed;
    }

    public static TorchFreeBuild Create()
    {
        var source = AppContext.BaseDirectory;
        var deps = JsonNode.Parse(File.ReadAllText(Path.Combine(source, DepsFile)))!.AsObject();
        var natives = RemoveTorchNatives(deps);
        var target = System.IO.Directory.CreateTempSubdirectory("tpccma-api-no-libtorch-").FullName;
        var removed = new List<string>();
        foreach (var file in System.IO.Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file).Replace('\\', '/');
            if (natives.Contains(relative) || Path.GetFileName(file) == CompatShim)
            {
                removed.Add(relative);
                continue;
            }
            if (relative.StartsWith(".playwright/", StringComparison.Ordinal) || OtherPlatformNative(relative)) continue;
            var copy = Path.Combine(target, relative);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            if (relative == DepsFile) File.WriteAllText(copy, deps.ToJsonString());
            else File.Copy(file, copy);
        }
        return new TorchFreeBuild(target, removed);
    }

    private static bool OtherPlatformNative(string relative) =>
        relative.StartsWith("runtimes/", StringComparison.Ordinal) && !relative.StartsWith("runtimes/linux-x64/", StringComparison.Ordinal);

    /// <summary>Drops the native assets of TorchSharp and libtorch-* from <paramref name="deps"/>; returns their paths.</summary>
    private static HashSet<string> RemoveTorchNatives(JsonObject deps)
    {
        var paths = new HashSet<string>();
        foreach (var (_, libraries) in deps["targets"]!.AsObject())
            foreach (var (name, library) in libraries!.AsObject())
            {
                var package = name.Split('/')[0];
                if (!(package.StartsWith("TorchSharp", StringComparison.Ordinal) || package.StartsWith("libtorch-", StringComparison.Ordinal))) continue;
                var entry = library!.AsObject();
                foreach (var kind in new[] { "native", "runtimeTargets" })
                {
                    if (entry[kind] is not JsonObject assets) continue;
                    var nativeAssets = assets.Where(a => kind == "native" || a.Value?["assetType"]?.GetValue<string>() == "native").Select(a => a.Key).ToList();
                    foreach (var path in nativeAssets)
                    {
                        paths.Add(path);
                        assets.Remove(path);
                    }
                    if (assets.Count == 0) entry.Remove(kind);
                }
            }
        return paths;
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// A service process started from <see cref="TorchFreeBuild"/> (the process that <see cref="ServiceProcess"/> starts runs
/// the test's own output, natives included). TorchSharp also looks for libtorch in the NuGet cache when its own folder has
/// none; <c>NUGET_PACKAGES</c> and <c>HOME</c> point at an empty folder so that it cannot find it there either.
/// </summary>
public sealed class TorchFreeProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly string emptyPackages = System.IO.Directory.CreateTempSubdirectory("tpccma-no-packages-").FullName;

    public string BaseUrl { get; }
    public int ProcessId => process.Id;
    public string Output { get { lock (output) return output.ToString(); } }
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;

    private TorchFreeProcess(TorchFreeBuild build, string mode, IReadOnlyDictionary<string, string> settings)
    {
        BaseUrl = $"http://127.0.0.1:{ServiceProcess.FreePort()}";
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Path.Combine(build.Directory, "TpcCma.Service.dll"), "--mode", mode, "--urls", BaseUrl }) info.ArgumentList.Add(arg);
        info.Environment["NUGET_PACKAGES"] = emptyPackages;
        info.Environment["HOME"] = emptyPackages;   // nor under ~/.nuget
        info.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in settings) info.Environment[key.Replace(":", "__")] = value;
        process = Process.Start(info) ?? throw new InvalidOperationException("could not start the service process");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Starts the process and, unless <paramref name="waitHealthy"/> is false, waits for <c>/healthz</c>.</summary>
    public static async Task<TorchFreeProcess> StartAsync(TorchFreeBuild build, string mode, IReadOnlyDictionary<string, string> settings, bool waitHealthy = true)
    {
        var started = new TorchFreeProcess(build, mode, settings);
        if (waitHealthy) await started.WaitHealthyAsync(TimeSpan.FromSeconds(90));
        return started;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
    }

    private Task WaitHealthyAsync(TimeSpan timeout) => HealthProbe.WaitHealthyAsync(process, BaseUrl, () => Output, timeout);

    /// <returns>Whether the process exited within <paramref name="timeout"/>.</returns>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { return false; }
        return true;
    }

    /// <summary>The shared libraries mapped into the process now (Linux: /proc/PID/maps), by file name.</summary>
    public IReadOnlySet<string> MappedLibraries() =>
        File.ReadLines($"/proc/{process.Id}/maps")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && f[5].StartsWith('/'))
            .Select(f => Path.GetFileName(f[5]))
            .ToHashSet();

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        try { System.IO.Directory.Delete(emptyPackages, recursive: true); } catch (IOException) { }
    }
}
