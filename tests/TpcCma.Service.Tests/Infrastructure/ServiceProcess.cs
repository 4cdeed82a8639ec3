using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>The service as a separate operating-system process (a worker node or an API node), as in production.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    public string BaseUrl { get; }
    public int ProcessId => process.Id;
    public string Output { get { lock (output) return output.ToString(); } }

    private ServiceProcess(Process process, string baseUrl)
    {
        this.process = process;
        BaseUrl = baseUrl;
    }

    /// <param name="port">The port to listen on (a restarted API keeps its address); a free one when null.</param>
    public static async Task<ServiceProcess> StartAsync(string mode, string connectionString, string artifactRoot,
        IReadOnlyDictionary<string, string>? settings = null, TimeSpan? timeout = null, int? port = null)
    {
        port ??= FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "TpcCma.Service.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "--mode", mode, "--urls", $"http://127.0.0.1:{port}" }) info.ArgumentList.Add(arg);
        info.Environment["ConnectionStrings__Jobs"] = connectionString;
        info.Environment["Service__ArtifactRoot"] = artifactRoot;
        info.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) info.Environment[key.Replace(":", "__")] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the service process");
        var service = new ServiceProcess(process, $"http://127.0.0.1:{port}");
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await service.WaitHealthyAsync(timeout ?? TimeSpan.FromSeconds(60));
        return service;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
    }

    private Task WaitHealthyAsync(TimeSpan timeout) => HealthProbe.WaitHealthyAsync(process, BaseUrl, () => Output, timeout);

    public int Port => new Uri(BaseUrl).Port;
    public int ExitCode => process.ExitCode;

    /// <summary>SIGKILL: the process dies mid-work with no chance to clean up.</summary>
    public void Kill() { if (!process.HasExited) process.Kill(entireProcessTree: true); }

    /// <summary>SIGTERM, as an orchestrator stopping a node sends it: the host shuts down gracefully.</summary>
    public void Terminate()
    {
        if (!process.HasExited && kill(process.Id, SigTerm) != 0 && !process.HasExited)
            throw new InvalidOperationException($"kill({process.Id}, SIGTERM) failed with errno {Marshal.GetLastPInvokeError()}");
    }

    /// <returns>Whether the process exited within <paramref name="timeout"/>.</returns>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { return false; }
        return true;
    }

    private const int SigTerm = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        Kill();
        await process.WaitForExitAsync();
        process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
