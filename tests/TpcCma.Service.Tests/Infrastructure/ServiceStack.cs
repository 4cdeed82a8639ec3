using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>
/// A whole deployment for one test class: a fresh PostgreSQL database, data and artifact roots, an admin key,
/// the API in-process and, on demand, worker and API processes of their own.
/// </summary>
/// <param name="settings">Extra configuration for the in-process API (e.g. a low <c>Auth:RequestsPerSecond</c>).</param>
/// <param name="postgresServer">The PostgreSQL server to create the database on; the shared test server when null.</param>
public sealed class ServiceStack(IReadOnlyDictionary<string, string>? settings = null, string? postgresServer = null) : IAsyncLifetime
{
    public const string AdminKey = "tpc_test_admin_key_0123456789abcdef";
    private readonly TestDatabase database = new(postgresServer);
    private readonly List<ServiceProcess> processes = [];
    private readonly IReadOnlyDictionary<string, string>? extraSettings = settings;

    public string DataRoot { get; } = Directory.CreateTempSubdirectory("tpccma-data-").FullName;
    public string ArtifactRoot { get; } = Directory.CreateTempSubdirectory("tpccma-artifacts-").FullName;
    public string ConnectionString => database.ConnectionString;
    public WebApplicationFactory<Program> Api { get; private set; } = null!;

    /// <summary>Extra settings of the in-process API (e.g. its artifact store), applied over the defaults.</summary>
    public IReadOnlyDictionary<string, string> ApiSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Settings of every node: the in-process API and each worker and API process started here (e.g. <see cref="QuickLeases"/>).</summary>
    public IReadOnlyDictionary<string, string> NodeSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Leases that lapse after 12 s of silence instead of 30 (renewed every 3 s, reconciled every 2 s), for tests that
    /// kill a worker and wait for its job to be handed over: the same hand-over by the same reconciler, sooner.
    /// </summary>
    public static LeaseSettings QuickLeaseSettings { get; } = new() { HeartbeatSeconds = 3, DeadAfterSeconds = 12, ReconcileEverySeconds = 2 };

    /// <summary>
    /// <see cref="QuickLeaseSettings"/> as node settings. Every node needs them: the holder sets its lease's expiry,
    /// and any node's reconciler may hand the job over.
    /// </summary>
    public static IReadOnlyDictionary<string, string> QuickLeases { get; } = new Dictionary<string, string>
    {
        ["Leases:HeartbeatSeconds"] = $"{QuickLeaseSettings.HeartbeatSeconds}",
        ["Leases:DeadAfterSeconds"] = $"{QuickLeaseSettings.DeadAfterSeconds}",
        ["Leases:ReconcileEverySeconds"] = $"{QuickLeaseSettings.ReconcileEverySeconds}",
    };

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        Api = new StackFactory(this);
        using var admin = Client(AdminKey);
        (await admin.GetAsync("/readyz")).EnsureSuccessStatusCode();   // migrations, admin key and Hangfire schema are in place
    }

    public async Task DisposeAsync()
    {
        foreach (var process in processes) await process.DisposeAsync();
        await Api.DisposeAsync();
        await database.DisposeAsync();
        foreach (var dir in new[] { DataRoot, ArtifactRoot }) try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    public HttpClient Client(string? key)
    {
        var client = Api.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>A worker node as its own process, sharing the database and the artifact root.</summary>
    public async Task<ServiceProcess> StartWorkerAsync(string node, IReadOnlyDictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string>
        {
            ["Service:NodeName"] = node, ["Service:DataRoot"] = DataRoot, ["Hangfire:InvisibilityTimeoutMinutes"] = "0.5",
        };
        foreach (var (k, v) in NodeSettings.Concat(settings ?? new Dictionary<string, string>())) all[k] = v;
        var worker = await ServiceProcess.StartAsync("worker", ConnectionString, ArtifactRoot, all);
        processes.Add(worker);
        return worker;
    }

    /// <summary>An API node as its own process, reachable over a real socket; <paramref name="port"/> restarts one at its old address.</summary>
    public async Task<ServiceProcess> StartApiAsync(int? port = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string>
        {
            ["Service:DataRoot"] = DataRoot, ["Auth:AdminKey"] = AdminKey, ["Auth:KeyCacheSeconds"] = "1",
        };
        foreach (var (k, v) in NodeSettings.Concat(settings ?? new Dictionary<string, string>())) all[k] = v;
        var api = await ServiceProcess.StartAsync("api", ConnectionString, ArtifactRoot, all, port: port);
        processes.Add(api);
        return api;
    }

    /// <summary>A normal user's key, created through the API by the admin.</summary>
    public async Task<string> CreateUserKeyAsync(string name)
    {
        using var admin = Client(AdminKey);
        var response = await admin.PostAsJsonAsync("/v1/keys", new { name });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
    }

    /// <summary>The reference tiny CLIP (HF layout) copied under the data root and registered as a model.</summary>
    public async Task<string> RegisterTinyModelAsync(HttpClient client)
    {
        var target = Path.Combine(DataRoot, "clip-tiny-hf");
        if (!Directory.Exists(target))
        {
            Directory.CreateDirectory(target);
            foreach (var file in Directory.GetFiles(TestPaths.RefData("clip-tiny", "hf"))) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
        var response = await client.PostAsJsonAsync("/v1/models", new { name = "clip-tiny", reference = "clip-tiny-hf" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    public async Task<string> RegisterShapesAsync(HttpClient client, int count = 96, int size = 32)
    {
        var response = await client.PostAsJsonAsync("/v1/datasets", new { name = "shapes", builtin = new { kind = "synthetic-shapes", count, size, seed = 3 } });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    public static async Task<JsonObject> ReadJsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    /// <summary>Polls a job until its status is one of <paramref name="states"/>.</summary>
    public static async Task<JsonObject> WaitForStatusAsync(HttpClient client, string jobId, TimeSpan timeout, params string[] states)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject job;
        do
        {
            job = await ReadJsonAsync(await client.GetAsync($"/v1/jobs/{jobId}"));
            if (states.Contains(job["status"]!.GetValue<string>())) return job;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"job {jobId} still {job["status"]} after {timeout}: {job.ToJsonString(new JsonSerializerOptions { WriteIndented = true })}");
    }

    private sealed class StackFactory(ServiceStack stack) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Service:Mode", "api");
            builder.UseSetting("ConnectionStrings:Jobs", stack.ConnectionString);
            builder.UseSetting("Service:ArtifactRoot", stack.ArtifactRoot);
            builder.UseSetting("Service:DataRoot", stack.DataRoot);
            builder.UseSetting("Auth:AdminKey", AdminKey);
            builder.UseSetting("Auth:KeyCacheSeconds", "1");
            foreach (var (key, value) in stack.NodeSettings) builder.UseSetting(key, value);
            foreach (var (key, value) in stack.extraSettings ?? new Dictionary<string, string>()) builder.UseSetting(key, value);
            foreach (var (key, value) in stack.ApiSettings) builder.UseSetting(key, value);
        }
    }
}
