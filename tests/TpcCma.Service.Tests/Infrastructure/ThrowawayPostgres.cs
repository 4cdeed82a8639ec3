using System.Diagnostics;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster for one test class alone (initdb into a temporary folder, a free loopback port), so a test
/// can stop and start the server without disturbing the shared one. Binaries from <c>TPCCMA_PG_BIN</c>, else
/// <c>/usr/lib/postgresql/15/bin</c> (what scripts/provision.sh installs). Run as root, the cluster belongs to the
/// postgres user, since initdb refuses root (as in scripts/postgres.sh).
/// </summary>
public sealed class ThrowawayPostgres : IAsyncLifetime
{
    private static readonly string Bin = Environment.GetEnvironmentVariable("TPCCMA_PG_BIN") ?? "/usr/lib/postgresql/15/bin";
    private readonly string folder = Directory.CreateTempSubdirectory("tpccma-pg-").FullName;

    public int Port { get; } = ServiceProcess.FreePort();

    /// <summary>The server's maintenance database, for <see cref="TestDatabase"/> to create the test's database on.</summary>
    public string ServerConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";

    private string DataDirectory => Path.Combine(folder, "data");

    public async Task InitializeAsync()
    {
        if (!File.Exists(Path.Combine(Bin, "initdb")))
            throw new InvalidOperationException($"no PostgreSQL binaries in {Bin}: run scripts/provision.sh or set TPCCMA_PG_BIN");
        if (Environment.IsPrivilegedProcess) await RunAsync("chown", "postgres:postgres", folder);
        await RunToolAsync("initdb", "-D", DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
        await StartAsync();
    }

    public Task StartAsync() => RunToolAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(folder, "postgres.log"), "-w", "-t", "60",
        "-o", $"-p {Port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off", "start");

    /// <summary>A fast shutdown, as in a server restart: every client's session is ended, new connections are refused.</summary>
    public Task StopAsync() => RunToolAsync("pg_ctl", "-D", DataDirectory, "-w", "-t", "60", "-m", "fast", "stop");

    public async Task DisposeAsync()
    {
        try { await RunToolAsync("pg_ctl", "-D", DataDirectory, "-w", "-m", "immediate", "stop"); }
        catch (InvalidOperationException) { }   // not running
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    private static Task RunToolAsync(string tool, params string[] args) => Environment.IsPrivilegedProcess
        ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(Bin, tool), .. args])
        : RunAsync(Path.Combine(Bin, tool), args);

    private static async Task RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}{await stdout}");
    }
}
