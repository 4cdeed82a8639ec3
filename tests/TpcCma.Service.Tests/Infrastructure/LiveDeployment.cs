using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>
/// A deployment reachable over a real socket, for clients outside the test process (a browser, the <c>tpccma</c>
/// client): the stack, one worker process, an API process on a free port, a user's key, the tiny model and a dataset.
/// </summary>
public sealed class LiveDeployment : IAsyncLifetime
{
    public ServiceStack Stack { get; } = new();
    public ServiceProcess Api { get; private set; } = null!;
    /// <summary>An in-process client with the user's key, for arranging and checking.</summary>
    public HttpClient Http { get; private set; } = null!;
    public string Key { get; private set; } = "";
    public string Dataset { get; private set; } = "";
    public string Model { get; private set; } = "";
    public string WorkFolder { get; } = Directory.CreateTempSubdirectory("tpccma-live-").FullName;

    public async Task InitializeAsync()
    {
        await Stack.InitializeAsync();
        Key = await Stack.CreateUserKeyAsync("live");
        Http = Stack.Client(Key);
        Dataset = await Stack.RegisterShapesAsync(Http, count: 64);
        Model = await Stack.RegisterTinyModelAsync(Http);
        await Stack.StartWorkerAsync("node-live");
        Api = await Stack.StartApiAsync();
    }

    public async Task DisposeAsync()
    {
        await Stack.DisposeAsync();
        try { Directory.Delete(WorkFolder, recursive: true); } catch (IOException) { }
    }

    /// <summary>A job request body on the registered model and dataset.</summary>
    public JsonObject JobRequest(string name, object spec) => new()
    {
        ["name"] = name, ["base_model"] = Model, ["dataset"] = Dataset,
        ["spec"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(spec)),
    };

    /// <summary>Submits an align job of <paramref name="steps"/> steps that logs every step; returns its id.</summary>
    /// <param name="evaluate">Run a small evaluation (base and final), so the job page has a before/after report.</param>
    public async Task<string> SubmitAsync(string name, int steps, bool evaluate = true)
    {
        var response = await Http.PostAsJsonAsync("/v1/jobs",
            JobRequest(name, new
            {
                kind = "align", alpha_target = 0.5, steps, batch_size = 16, lr = 1e-4, checkpoint_every = 10, log_every = 1, seed = 5,
                // A small evaluation, so the job page has a before/after report without slowing the test down.
                eval = new { enabled = evaluate, captioning_steps = 10, train_sample = 0, at_phase_boundaries = false },
            }));
        response.EnsureSuccessStatusCode();
        return (await ServiceStack.ReadJsonAsync(response))["id"]!.GetValue<string>();
    }
}
