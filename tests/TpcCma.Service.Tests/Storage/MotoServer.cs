using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using TpcCma.Service.Storage;

namespace TpcCma.Service.Tests.Storage;

/// <summary>
/// A real S3-compatible server for the tests: moto (<c>python3 -m moto.server</c>) on a free loopback port, with one
/// bucket, killed at the end. The Python that has moto: <c>TPCCMA_MOTO_PYTHON</c>, else <c>/usr/bin/python3</c>
/// (Debian's python3-moto), else <c>python3</c> on the PATH.
/// </summary>
public sealed class MotoServer : IAsyncLifetime
{
    public const string Bucket = "tpccma-test";
    private readonly StringBuilder output = new();
    private Process? process;

    public string ServiceUrl { get; private set; } = "";

    /// <summary>Settings for a store on this server; <paramref name="prefix"/> keeps each test's objects apart.</summary>
    public S3StorageOptions Options(string prefix, int partSizeMiB = 5) => new()
    {
        ServiceUrl = ServiceUrl, Bucket = Bucket, AccessKey = "test", SecretKey = "test", Prefix = prefix,
        PartSizeMiB = partSizeMiB, MultipartThresholdMiB = partSizeMiB,
    };

    /// <summary>A client that bypasses the store, to look at objects as another tool would.</summary>
    public AmazonS3Client RawClient() => new(new Amazon.Runtime.BasicAWSCredentials("test", "test"),
        new AmazonS3Config { ServiceURL = ServiceUrl, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });

    public async Task InitializeAsync()
    {
        var python = FindPythonWithMoto();
        var port = FreePort();
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-m", "moto.server", "-H", "127.0.0.1", "-p", port.ToString() }) info.ArgumentList.Add(arg);
        process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {python} -m moto.server");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        ServiceUrl = $"http://127.0.0.1:{port}";
        await WaitAnsweringAsync(TimeSpan.FromSeconds(30));
        using var client = RawClient();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = Bucket });
    }

    public async Task DisposeAsync()
    {
        if (process is null) return;
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }

    private static string FindPythonWithMoto()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("TPCCMA_MOTO_PYTHON"), "/usr/bin/python3", "python3" };
        foreach (var candidate in candidates.OfType<string>().Where(c => c.Length > 0))
        {
            try
            {
                using var probe = Process.Start(new ProcessStartInfo(candidate, ["-c", "import moto.server"]) { RedirectStandardError = true, UseShellExecute = false });
                if (probe is null) continue;
                probe.WaitForExit(30_000);
                if (probe.HasExited && probe.ExitCode == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception) { } // that interpreter is not installed
        }
        throw new InvalidOperationException(
            "the S3 store tests need moto (a local S3 server) and no Python here has it: tried " + string.Join(", ", candidates.OfType<string>()) +
            ". Install it (apt-get install python3-moto, or pip install 'moto[server]') or set TPCCMA_MOTO_PYTHON to a Python that has it");
    }

    private async Task WaitAnsweringAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process!.HasExited) throw new InvalidOperationException($"moto exited with {process.ExitCode}:\n{Output}");
            try
            {
                if ((await http.GetAsync(ServiceUrl + "/moto-api/")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"moto did not answer at {ServiceUrl} within {timeout}:\n{Output}");
    }

    private string Output { get { lock (output) return output.ToString(); } }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
