using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TpcCma.Service.Tests.Infrastructure;

namespace TpcCma.Service.Tests.Api;

/// <summary>Keys authenticate, owners are isolated (others' resources are 404), admin-only endpoints are 403 for others.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private readonly ServiceStack stack = new();

    public Task InitializeAsync() => stack.InitializeAsync();

    public Task DisposeAsync() => stack.DisposeAsync();

    [Theory]
    [InlineData(null)]
    [InlineData("tpc_wrong_key_000000000000000000")]
    public async Task Jobs_WithoutValidKey_Returns401Problem(string? key)
    {
        using var client = stack.Client(key);
        var response = await client.GetAsync("/v1/jobs");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AdminEndpoints_WithUserKey_Return403()
    {
        using var user = stack.Client(await stack.CreateUserKeyAsync("user"));
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PostAsJsonAsync("/v1/keys", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.DeleteAsync($"/v1/keys/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/hangfire")).StatusCode);
        using var admin = stack.Client(ServiceStack.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task Resources_OfAnotherOwner_Return404()
    {
        using var alice = stack.Client(await stack.CreateUserKeyAsync("alice"));
        using var bob = stack.Client(await stack.CreateUserKeyAsync("bob"));
        var dataset = await stack.RegisterShapesAsync(alice, count: 16);
        var model = await stack.RegisterTinyModelAsync(alice);
        var job = await ServiceStack.ReadJsonAsync(await alice.PostAsJsonAsync("/v1/jobs",
            new { base_model = model, dataset, spec = new { steps = 2, batch_size = 4 } }));
        var jobId = job["id"]!.GetValue<string>();

        foreach (var path in new[] { $"/v1/jobs/{jobId}", $"/v1/jobs/{jobId}/events", $"/v1/jobs/{jobId}/metrics", $"/v1/jobs/{jobId}/checkpoints",
                     $"/v1/datasets/{dataset}", $"/v1/models/{model}" })
            Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.PostAsync($"/v1/jobs/{jobId}/cancel", null)).StatusCode);
        // Bob cannot start a job on Alice's data either.
        Assert.Equal(HttpStatusCode.NotFound, (await bob.PostAsJsonAsync("/v1/jobs", new { base_model = model, dataset, spec = new { steps = 2, batch_size = 4 } })).StatusCode);
        Assert.Empty((await ServiceStack.ReadJsonAsync(await bob.GetAsync("/v1/jobs")))["data"]!.AsArray());
        using var admin = stack.Client(ServiceStack.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/v1/jobs/{jobId}")).StatusCode);
    }

    [Fact]
    public async Task RevokedKey_IsServedFromTheCacheUntilItExpires_ThenRefused()
    {
        // The same API on a clock the test moves: the cache's expiry is then exact, with no sleep against it.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var api = stack.Api.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        using var admin = Authorized(api, ServiceStack.AdminKey);
        var created = await ServiceStack.ReadJsonAsync(await admin.PostAsJsonAsync("/v1/keys", new { name = "temp" }));
        using var temp = Authorized(api, created["token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await temp.GetAsync("/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/keys/{created["id"]}")).StatusCode);

        // The stack caches key lookups for 1 s (Auth:KeyCacheSeconds): until then the revoked key is still served...
        clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(HttpStatusCode.OK, (await temp.GetAsync("/v1/jobs")).StatusCode);
        // ...and once its entry has expired it is refused.
        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(HttpStatusCode.Unauthorized, (await temp.GetAsync("/v1/jobs")).StatusCode);
    }

    private static HttpClient Authorized(WebApplicationFactory<Program> api, string key)
    {
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}
