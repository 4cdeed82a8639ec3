using System.Net;
using System.Net.Http.Headers;

namespace TpcCma.Service.Tests.Security;

/// <summary>Per-key rate limits, references that cannot leave the data root or reach unlisted hosts, and keys kept out of logs.</summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private const int Burst = 5;
    private readonly ServiceStack stack = new(new Dictionary<string, string>
    {
        ["Hub:BaseUrl"] = "http://127.0.0.1:9", ["Hub:AllowedHosts:0"] = "huggingface.co",
    });

    public Task InitializeAsync() => stack.InitializeAsync();

    public Task DisposeAsync() => stack.DisposeAsync();

    [Fact]
    public async Task Requests_OverTheKeysBurst_Return429WithRetryAfter_WhileOtherKeysAreServed()
    {
        // A deployment of its own: its limit of one request a second would starve the other tests.
        var stack = new ServiceStack(new Dictionary<string, string> { ["Auth:RequestsPerSecond"] = "1", ["Auth:Burst"] = Burst.ToString() });
        await stack.InitializeAsync();
        try { await AssertRateLimitedAsync(stack); }
        finally { await stack.DisposeAsync(); }
    }

    private static async Task AssertRateLimitedAsync(ServiceStack stack)
    {
        using var busy = stack.Client(await stack.CreateUserKeyAsync("busy"));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < Burst + 3; i++) statuses.Add((await busy.GetAsync("/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        var limited = await busy.GetAsync("/v1/jobs");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("1", limited.Headers.GetValues("Retry-After").Single());
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        using var other = stack.Client(await stack.CreateUserKeyAsync("other"));
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task References_LeavingTheDataRoot_Return400NamingTheField()
    {
        var outside = Directory.CreateTempSubdirectory("tpccma-outside-").FullName;
        File.WriteAllText(Path.Combine(outside, "manifest.jsonl"), "");
        Directory.CreateSymbolicLink(Path.Combine(stack.DataRoot, "escape-link"), outside);
        using var user = stack.Client(await stack.CreateUserKeyAsync("paths"));
        foreach (var reference in new[] { "../etc", "../../../../etc/passwd", "/etc/passwd", outside, "escape-link", "escape-link/manifest.jsonl" })
        {
            var model = await user.PostAsJsonAsync("/v1/models", new { reference });
            Assert.Equal(HttpStatusCode.BadRequest, model.StatusCode);
            Assert.True((await ServiceStack.ReadJsonAsync(model))["errors"]!.AsObject().ContainsKey("reference"), reference);
            var dataset = await user.PostAsJsonAsync("/v1/datasets", new { path = reference });
            Assert.Equal(HttpStatusCode.BadRequest, dataset.StatusCode);
            Assert.True((await ServiceStack.ReadJsonAsync(dataset))["errors"]!.AsObject().ContainsKey("path"), reference);
        }
        Assert.Empty((await ServiceStack.ReadJsonAsync(await user.GetAsync("/v1/models")))["data"]!.AsArray());
        Assert.Empty((await ServiceStack.ReadJsonAsync(await user.GetAsync("/v1/datasets")))["data"]!.AsArray());
    }

    [Fact]
    public async Task HubReference_ToAHostNotAllowed_Returns400WithoutContactingIt()
    {
        using var user = stack.Client(await stack.CreateUserKeyAsync("hub"));
        var response = await user.PostAsJsonAsync("/v1/models", new { reference = "hf:openai/clip-vit-base-patch32" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = (await ServiceStack.ReadJsonAsync(response))["errors"]!["reference"]![0]!.GetValue<string>();
        Assert.Contains("127.0.0.1", message);
    }

    [Fact]
    public async Task ApiKeys_NeverAppearInTheServiceLog()
    {
        var key = await stack.CreateUserKeyAsync("logged");
        await using var api = await ServiceProcess.StartAsync("api", stack.ConnectionString, stack.ArtifactRoot, new Dictionary<string, string>
        {
            ["Service:DataRoot"] = stack.DataRoot, ["Auth:AdminKey"] = ServiceStack.AdminKey,
            ["Logging:LogLevel:Default"] = "Debug", ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug",
        });
        const string wrong = "tpc_wrong_secret_key_99999999999999";
        using var http = new HttpClient { BaseAddress = new Uri(api.BaseUrl) };
        foreach (var token in new[] { key, wrong, ServiceStack.AdminKey })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/jobs?search=x");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            await http.SendAsync(request);
            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(new { spec = new { lr = -1 } }) };
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            await http.SendAsync(post);
        }
        // A last request whose marker must show up in the log: once it has, every earlier line has reached the pipe,
        // so the absence of the tokens below is a statement about the whole log, not about an unflushed buffer.
        var marker = "flushmarker" + Guid.NewGuid().ToString("N");
        using (var last = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs?search={marker}"))
        {
            last.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            await http.SendAsync(last);
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!api.Output.Contains(marker) && DateTime.UtcNow < deadline) await Task.Delay(50);
        var log = api.Output;
        Assert.Contains(marker, log);
        Assert.Contains("/v1/jobs?search=x", log);   // the requests carrying the tokens were logged too
        foreach (var token in new[] { key, wrong, ServiceStack.AdminKey }) Assert.DoesNotContain(token, log);
    }
}
