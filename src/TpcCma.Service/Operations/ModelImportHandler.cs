using System.Text.Json.Nodes;
using TpcCma.Checkpoints;
using TpcCma.Service.Hosting;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Operations;

/// <summary>
/// <c>model-import</c>: downloads an <c>hf:</c> model into this node's hub cache (or finds a path under this node's data
/// root), loads it once to refuse what a job could not load later, and registers it under the id the request reserved.
/// Nothing is registered when it fails.
/// Safe to repeat: the download resumes from the cache, and the model is registered in the transaction that records the success.
/// </summary>
public sealed class ModelImportHandler(HubSettings hub, ServiceOptions options, TimeProvider time) : IOperationHandler
{
    public string Kind => OperationKinds.ModelImport;

    /// <summary>What the request stores for the worker; <paramref name="modelId"/> is the id the model gets.</summary>
    /// <param name="reference">The <c>hf:</c> reference, or the path relative to the data root.</param>
    /// <param name="name">The model's name.</param>
    /// <param name="modelId">The id the model gets.</param>
    /// <param name="source"><c>hf</c> for a hub reference, <c>import</c> for a path relative to the data root.</param>
    public static JsonObject Input(string reference, string name, Guid modelId, string source = "hf") =>
        new() { ["reference"] = reference, ["name"] = name, ["model_id"] = modelId.ToString(), ["source"] = source };

    public async Task<JsonObject> RunAsync(OperationContext context, CancellationToken ct)
    {
        var reference = context.RequiredInput("reference");
        var modelId = Guid.Parse(context.RequiredInput("model_id"));
        // Operations stored before imports of paths were handed to workers carry no source: they are hub imports.
        var source = context.Input["source"]?.GetValue<string>() ?? "hf";
        try
        {
            var location = reference;
            if (source == "import") location = DataRootPaths.Resolve(Path.GetFullPath(options.DataRoot), reference);
            else
            {
                context.Report(0.05, $"downloading {reference}");
                await new HubDownloader(hub.Options).DownloadAsync(HubReference.Parse(reference), ct);
            }
            context.Report(0.6, $"loading {reference} to check it");
            // Found in the cache or the data root now; loaded on a worker thread (TorchSharp scopes are per thread).
            await Task.Run(async () => { using var _ = await ModelLoader.LoadAsync(location, new ModelLoadOptions(Hub: hub.Options), ct); }, ct);
        }
        catch (Exception ex) when (ex is ArgumentException or FileNotFoundException or InvalidDataException or HttpRequestException or IOException
            || (ex is OperationCanceledException && !ct.IsCancellationRequested))   // an HTTP timeout, not this operation's cancellation
        {
            context.Problem("reference", "reference", ex.Message);
            throw new OperationFailedException($"importing {reference} failed: {ex.Message}", ex);
        }
        var record = new ModelRecord
        {
            Id = modelId, OwnerKeyId = context.OwnerKeyId, Name = context.RequiredInput("name"), Source = source, Reference = reference,
            CreatedAt = time.GetUtcNow(),
        };
        context.StoreOnSuccess(db => db.Models.Add(record));   // registered with the success, or not at all
        context.Report(1, $"imported {reference}");
        return Result(modelId);
    }

    private static JsonObject Result(Guid modelId) => new() { ["model"] = modelId.ToString() };
}
