using System.Diagnostics;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>
/// One align job run to its end by a worker process separate from the API, over the real PostgreSQL: run once for
/// all of <see cref="FinishedAlignJobTests"/>, each of which reads one behaviour of its outcome.
/// </summary>
public sealed class FinishedAlignJob() : UserDeployment("lifecycle", shapes: 80)
{
    public const int Steps = 40;

    public ServiceProcess Worker { get; private set; } = null!;
    public string Id { get; private set; } = "";
    /// <summary>The job as the API showed it once it had ended.</summary>
    public JsonObject Job { get; private set; } = null!;
    public TimeSpan QueuedToEnd { get; private set; }

    /// <summary>The dataset's folder under the data root, as the worker unpacked it.</summary>
    public string DatasetFolder => Path.Combine(Stack.DataRoot, "datasets", Guid.Parse(Dataset).ToString("N"));

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Worker = await Stack.StartWorkerAsync("node-a");
        var clock = Stopwatch.StartNew();
        // Evaluated before and after (the gaps and the final-embedding fingerprint), without caption decoders: no
        // test here reads a caption score, and the decoders would be most of the job's time.
        Id = await SubmitAsync("tiny-align", new
        {
            kind = "align", alpha_target = 0.5, steps = Steps, batch_size = 16, lr = 1e-4, checkpoint_every = 10, log_every = 1, seed = 11,
            eval = new { enabled = true, captioning = false, train_sample = 0, at_phase_boundaries = false },
        });
        Job = await ServiceStack.WaitForStatusAsync(Client, Id, TimeSpan.FromSeconds(240), "succeeded", "failed");
        QueuedToEnd = clock.Elapsed;
    }

    /// <summary>The job's timeline: status changes, phases, evaluations.</summary>
    public async Task<List<JsonObject>> EventsAsync() =>
        [.. (await ServiceStack.ReadJsonAsync(await Client.GetAsync($"/v1/jobs/{Id}/events")))["data"]!.AsArray().Select(e => e!.AsObject())];

    /// <summary>The <paramref name="field"/> of each event of the given kind, in order.</summary>
    public async Task<List<string>> EventsOfKindAsync(string kind, Func<JsonObject, JsonNode?> field) =>
        [.. (await EventsAsync()).Where(e => e["kind"]!.GetValue<string>() == kind).Select(e => field(e)!.GetValue<string>())];
}
