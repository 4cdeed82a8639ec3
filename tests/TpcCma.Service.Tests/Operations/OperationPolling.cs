using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TpcCma.Service.Tests.Infrastructure;

namespace TpcCma.Service.Tests.Operations;

/// <summary>Waiting for operations over HTTP, as a client without webhooks does.</summary>
public static class OperationPolling
{
    /// <summary>Polls <c>/v1/operations/{id}</c> until it has ended.</summary>
    public static async Task<JsonObject> WaitAsync(HttpClient client, string id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject operation;
        do
        {
            operation = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{id}"));
            if (operation["state"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled") return operation;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"operation {id} still {operation["state"]} after {timeout}: {operation.ToJsonString(new JsonSerializerOptions { WriteIndented = true })}");
    }

    /// <summary>
    /// The Hugging Face export of a job's checkpoint: the first request starts its conversion on a worker (202), the
    /// operation is waited for, and the request made again streams the tar.
    /// </summary>
    public static async Task<byte[]> DownloadHfAsync(HttpClient client, string jobId, string step = "latest")
    {
        var url = $"/v1/jobs/{jobId}/checkpoints/{step}/download?format=hf";
        var first = await client.GetAsync(url);
        if (first.StatusCode == HttpStatusCode.Accepted)
        {
            var operation = await WaitAsync(client, (await ServiceStack.ReadJsonAsync(first))["id"]!.GetValue<string>(), TimeSpan.FromSeconds(180));
            if (operation["state"]!.GetValue<string>() != "succeeded") throw new InvalidOperationException($"conversion failed: {operation.ToJsonString()}");
            first = await client.GetAsync(url);
        }
        first.EnsureSuccessStatusCode();
        return await first.Content.ReadAsByteArrayAsync();
    }
}
