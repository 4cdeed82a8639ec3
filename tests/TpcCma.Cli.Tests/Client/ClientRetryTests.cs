using System.Net;
using System.Net.Sockets;
using static TpcCma.Cli.Tests.CliCapture;

namespace TpcCma.Cli.Tests.Client;

/// <summary>
/// The client's resilience pipeline against a real HTTP server that answers from a script: reads are retried through
/// 503s and refused connections within <c>--retry-for</c>, requests that change something and 4xx answers are not.
/// </summary>
[Collection("Console")]
public sealed class ClientRetryTests : IDisposable
{
    private const string Job = """{"id":"0123456789abcdef","name":"n","kind":"align","status":"running","phase":"ramp","step":1,"total_steps":2}""";
    private readonly ScriptedServer server = new();

    public void Dispose() => server.Dispose();

    [Fact]
    public async Task Read_IsRetriedThrough503s_AndSucceeds()
    {
        server.Answers.Enqueue((503, "{}"));
        server.Answers.Enqueue((502, "{}"));
        server.Answers.Enqueue((200, Job));

        var (code, stdout, stderr) = await Run("jobs", "get", "0123456789abcdef", "--url", server.Url, "--key", "k");

        Assert.True(code == ExitCodes.Ok, stderr);
        Assert.Equal(3, server.Requests.Count);
        Assert.Contains("running", stdout);
        Assert.Contains("retrying in 0.5 s", stderr);
        Assert.Contains("retrying in 1.0 s", stderr);
        Assert.Contains("the service answers again", stderr);
    }

    [Fact]
    public async Task Read_GivesUpAtTheBudget_WithTheLastAnswersExitCode()
    {
        for (var i = 0; i < 20; i++) server.Answers.Enqueue((503, """{"title":"Service Unavailable"}"""));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, stderr) = await Run("jobs", "get", "0123456789abcdef", "--url", server.Url, "--key", "k", "--retry-for", "2");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("503", stderr);
        // Waits of 0.5 s and 1 s fit in 2 s, the next 2 s does not: three attempts, well before 20.
        Assert.Equal(3, server.Requests.Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task RetryForZero_SendsOnce()
    {
        server.Answers.Enqueue((503, "{}"));
        server.Answers.Enqueue((200, Job));

        var (code, _, _) = await Run("jobs", "get", "0123456789abcdef", "--url", server.Url, "--key", "k", "--retry-for", "0");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task ClientError_IsNotRetried()
    {
        server.Answers.Enqueue((404, """{"title":"Not Found","detail":"no job 0123"}"""));
        server.Answers.Enqueue((200, Job));

        var (code, _, stderr) = await Run("jobs", "get", "0123", "--url", server.Url, "--key", "k");

        Assert.Equal(ExitCodes.InvalidRequest, code);
        Assert.Single(server.Requests);
        Assert.Contains("no job 0123", stderr);
    }

    [Fact]
    public async Task RequestThatChangesSomething_IsNotRetried()
    {
        server.Answers.Enqueue((503, "{}"));
        server.Answers.Enqueue((200, Job));

        var (code, _, _) = await Run("jobs", "cancel", "0123456789abcdef", "--url", server.Url, "--key", "k");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal(["POST /v1/jobs/0123456789abcdef/cancel"], server.Requests);
    }

    [Fact]
    public async Task RefusedConnection_IsRetried_ThenExitsOne()
    {
        var url = $"http://127.0.0.1:{ScriptedServer.FreePort()}";   // nothing listens there

        var (code, _, stderr) = await Run("jobs", "get", "0123456789abcdef", "--url", url, "--key", "k", "--retry-for", "1");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("the service is unreachable", stderr);
        Assert.Contains("cannot reach the service", stderr);
    }

    /// <summary>A loopback HTTP server that answers each request with the next scripted (status, JSON body).</summary>
    private sealed class ScriptedServer : IDisposable
    {
        private readonly HttpListener listener = new();
        private readonly Task loop;

        public System.Collections.Concurrent.ConcurrentQueue<(int Status, string Body)> Answers { get; } = new();
        public List<string> Requests { get; } = [];
        public string Url { get; }

        public ScriptedServer()
        {
            Url = $"http://127.0.0.1:{FreePort()}";
            listener.Prefixes.Add(Url + "/");
            listener.Start();
            loop = Task.Run(ServeAsync);
        }

        public static int FreePort()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        private async Task ServeAsync()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException) { return; }   // stopped
                lock (Requests) Requests.Add($"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath}");
                var (status, body) = Answers.TryDequeue(out var next) ? next : (500, "{}");
                context.Response.StatusCode = status;
                context.Response.ContentType = status < 400 ? "application/json" : "application/problem+json";
                var bytes = System.Text.Encoding.UTF8.GetBytes(body);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            listener.Stop();
            listener.Close();
            loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
