using System.Net;
using System.Text.Json;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>
/// What most service tests start from: a <see cref="ServiceStack"/> (a database of its own), a user's key and
/// in-process client, and the reference tiny model and a synthetic-shapes dataset registered under that user.
/// Fresh for each test through <see cref="UserDeploymentTests"/>, or shared by a class as its fixture.
/// </summary>
/// <param name="user">The key's name (it shows in logs and in the keys list).</param>
/// <param name="shapes">Images in the synthetic-shapes dataset.</param>
/// <param name="settings">Extra configuration of the in-process API (see <see cref="ServiceStack"/>).</param>
/// <param name="postgresServer">Another PostgreSQL server for the database (e.g. a <see cref="ThrowawayPostgres"/>).</param>
/// <param name="nodeSettings">Settings of every node, the worker processes included (<see cref="ServiceStack.NodeSettings"/>).</param>
public class UserDeployment(string user, int shapes = 64, IReadOnlyDictionary<string, string>? settings = null, string? postgresServer = null,
    IReadOnlyDictionary<string, string>? nodeSettings = null) : IAsyncLifetime
{
    public ServiceStack Stack { get; } = new(settings, postgresServer) { NodeSettings = nodeSettings ?? new Dictionary<string, string>() };
    /// <summary>An in-process client with the user's key.</summary>
    public HttpClient Client { get; private set; } = null!;
    public string Key { get; private set; } = "";
    public string Dataset { get; private set; } = "";
    public string Model { get; private set; } = "";

    public virtual async Task InitializeAsync()
    {
        await Stack.InitializeAsync();
        Key = await Stack.CreateUserKeyAsync(user);
        Client = Stack.Client(Key);
        Dataset = await Stack.RegisterShapesAsync(Client, count: shapes);
        Model = await Stack.RegisterTinyModelAsync(Client);
    }

    public virtual Task DisposeAsync() => Stack.DisposeAsync();

    /// <summary>How many items the user's list at <paramref name="path"/> (e.g. <c>/v1/jobs</c>) holds, up to 500.</summary>
    public async Task<int> CountAsync(string path) =>
        (await ServiceStack.ReadJsonAsync(await Client.GetAsync(path + "?limit=500")))["data"]!.AsArray().Count;

    /// <summary>A job request body on the registered model and dataset.</summary>
    public JsonObject JobRequest(string name, object spec) => new()
    {
        ["name"] = name, ["base_model"] = Model, ["dataset"] = Dataset, ["spec"] = JsonSerializer.SerializeToNode(spec),
    };

    /// <summary>Submits a job on the registered model and dataset, checks that it was created, and returns its id.</summary>
    public async Task<string> SubmitAsync(string name, object spec)
    {
        var response = await Client.PostAsJsonAsync("/v1/jobs", JobRequest(name, spec));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await ServiceStack.ReadJsonAsync(response))["id"]!.GetValue<string>();
    }

    /// <summary>Submits a sweep on the registered model and dataset, checks that it was created, and returns it.</summary>
    public async Task<JsonObject> SubmitSweepAsync(object sweep)
    {
        var body = JsonSerializer.SerializeToNode(sweep)!.AsObject();
        body["base_model"] = Model;
        body["dataset"] = Dataset;
        var response = await Client.PostAsJsonAsync("/v1/sweeps", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await ServiceStack.ReadJsonAsync(response);
    }

    /// <summary>Waits for every job of a submitted sweep to succeed, then returns the sweep as the API shows it.</summary>
    public async Task<JsonObject> WaitForSweepAsync(JsonObject sweep, TimeSpan timeoutPerJob)
    {
        foreach (var job in sweep["jobs"]!.AsArray())
        {
            var finished = await ServiceStack.WaitForStatusAsync(Client, job!["id"]!.GetValue<string>(), timeoutPerJob, "succeeded", "failed");
            Assert.True(finished["status"]!.GetValue<string>() == "succeeded", finished.ToJsonString());
        }
        var response = await Client.GetAsync($"/v1/sweeps/{sweep["id"]}");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await ServiceStack.ReadJsonAsync(response);
    }
}

/// <summary>
/// A test class whose every test runs on a <see cref="UserDeployment"/> of its own, made before the test and dropped
/// after it (xUnit makes a new instance of the class for each test).
/// </summary>
public abstract class UserDeploymentTests(UserDeployment deployment) : IAsyncLifetime
{
    protected UserDeployment Deployment { get; } = deployment;
    protected ServiceStack Stack => Deployment.Stack;
    protected HttpClient Client => Deployment.Client;
    protected string Dataset => Deployment.Dataset;
    protected string Model => Deployment.Model;

    public virtual Task InitializeAsync() => Deployment.InitializeAsync();

    public virtual Task DisposeAsync() => Deployment.DisposeAsync();
}
