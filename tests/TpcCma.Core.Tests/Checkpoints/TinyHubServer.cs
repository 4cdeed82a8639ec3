using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using TpcCma.Core.Tests.Model;   // explicit: the file is also compiled into the service tests, without this project's global usings

namespace TpcCma.Core.Tests.Checkpoints;

/// <summary>A real HTTP server on 127.0.0.1 serving the reference HF folder under <c>/tiny-org/NAME/resolve/REV/FILE</c>.</summary>
public sealed class TinyHubServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly CancellationTokenSource stop = new();

    public TinyHubServer()
    {
        BaseUrl = new Uri($"http://127.0.0.1:{FreePort()}/");
        listener.Prefixes.Add(BaseUrl.ToString());
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public Uri BaseUrl { get; }

    /// <summary>Every request: path, Range header and Authorization header.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Bytes of model.safetensors to send before cutting the connection (next such request only), or -1.</summary>
    public long CutAfter = -1;

    /// <summary>Serve model.safetensors with one byte flipped (and the true sha256 as ETag).</summary>
    public bool Corrupt { get; set; }

    public void Dispose()
    {
        stop.Cancel();
        listener.Close();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception) when (stop.IsCancellationRequested || !listener.IsListening) { return; }
            try { Serve(context); }
            catch (HttpListenerException) { }   // the client went away
            catch (Exception ex)
            {
                // A fault of the server (e.g. missing reference data) answers 500 and keeps serving: a client never hangs on it.
                try { context.Response.StatusCode = 500; context.Response.StatusDescription = ex.GetType().Name; context.Response.Close(); }
                catch (Exception) { }
            }
        }
    }

    private void Serve(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath;   // /org/name/resolve/rev/file
        var range = context.Request.Headers["Range"];
        Requests.Enqueue($"{path} range={range ?? "-"} auth={context.Request.Headers["Authorization"]}");
        var parts = path.Trim('/').Split('/');
        var file = Path.Combine(TinyClip.HfDirectory, parts[^1]);
        var response = context.Response;
        if (parts.Length != 5 || parts[0] != "tiny-org" || parts[2] != "resolve" || !File.Exists(file))
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }
        var bytes = File.ReadAllBytes(file);
        if (parts[^1] == "model.safetensors") response.Headers["X-Linked-Etag"] = $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"";
        if (Corrupt && parts[^1] == "model.safetensors") bytes[^10] ^= 0xFF;
        long from = 0;
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            from = long.Parse(range[6..].TrimEnd('-'));
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {from}-{bytes.Length - 1}/{bytes.Length}";
        }
        response.ContentLength64 = bytes.Length - from;
        var cut = parts[^1] == "model.safetensors" ? Interlocked.Exchange(ref CutAfter, -1) : -1;
        if (cut >= 0)
        {
            response.OutputStream.Write(bytes, (int)from, (int)cut);
            response.OutputStream.Flush();
            response.Abort();
            return;
        }
        response.OutputStream.Write(bytes, (int)from, (int)(bytes.Length - from));
        response.Close();
    }

}
