namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>
/// A deployment reachable over a real socket, for clients outside the test process (a browser, the <c>tpccma</c>
/// client): a user's deployment, one worker process and an API process on a free port.
/// </summary>
public sealed class LiveDeployment() : UserDeployment("live", shapes: 64)
{
    public ServiceProcess Api { get; private set; } = null!;
    /// <summary>The in-process client with the user's key, for arranging and checking (<see cref="UserDeployment.Client"/>).</summary>
    public HttpClient Http => Client;
    public string WorkFolder { get; } = Directory.CreateTempSubdirectory("tpccma-live-").FullName;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Stack.StartWorkerAsync("node-live");
        Api = await Stack.StartApiAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(WorkFolder, recursive: true); } catch (IOException) { }
    }

    /// <summary>Submits an align job of <paramref name="steps"/> steps that logs every step; returns its id.</summary>
    /// <param name="evaluate">Run a small evaluation (base and final, no captioning), so the job page has a before/after report.</param>
    public Task<string> SubmitAsync(string name, int steps, bool evaluate = true) => SubmitAsync(name, new
    {
        kind = "align", alpha_target = 0.5, steps, batch_size = 16, lr = 1e-4, checkpoint_every = 10, log_every = 1, seed = 5,
        eval = new { enabled = evaluate, captioning = false, train_sample = 0, at_phase_boundaries = false },
    });
}
