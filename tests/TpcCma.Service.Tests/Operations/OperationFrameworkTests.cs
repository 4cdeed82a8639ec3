using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using TpcCma.Service.Operations;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Tests.Operations;

/// <summary>
/// The operations framework over the real PostgreSQL and Hangfire storage: the runner records every way an operation
/// ends, the reconciler enqueues what nobody runs, requests on one subject share an operation, and the list pages.
/// The runner runs here in the test process with handlers of the test's own; the kinds the service ships are run by
/// worker processes in <see cref="ModelImportOperationTests"/> and <see cref="CheckpointConversionOperationTests"/>.
/// </summary>
public sealed class OperationFrameworkTests : IAsyncLifetime
{
    private readonly ServiceStack stack = new();
    private IServiceProvider Services => stack.Api.Services;

    public Task InitializeAsync() => stack.InitializeAsync();

    public Task DisposeAsync() => stack.DisposeAsync();

    /// <summary>A handler that reports, finds two problems of one kind and one of another, and returns its input's text.</summary>
    private sealed class EchoHandler : IOperationHandler
    {
        public string Kind => "test-echo";

        public async Task<JsonObject> RunAsync(OperationContext context, CancellationToken ct)
        {
            context.Report(0.5, "half way");
            context.Problem("bad-row", "rows.jsonl:3", "not JSON");
            context.Problem("bad-row", "rows.jsonl:9", "not JSON");
            context.Problem("missing-image", "img/7.png", "no such file");
            await Task.Delay(1500, ct);   // long enough for one progress write
            return new JsonObject { ["echo"] = context.RequiredInput("text") };
        }
    }

    private sealed class FailingHandler : IOperationHandler
    {
        public string Kind => "test-fail";

        public Task<JsonObject> RunAsync(OperationContext context, CancellationToken ct) =>
            throw new OperationFailedException($"cannot read {context.RequiredInput("text")}: it is on fire");
    }

    private sealed class WaitingHandler(TaskCompletionSource started) : IOperationHandler
    {
        public string Kind => "test-wait";

        public async Task<JsonObject> RunAsync(OperationContext context, CancellationToken ct)
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return [];
        }
    }

    private OperationRunner Runner(params IOperationHandler[] handlers) => new(
        Services.GetRequiredService<OperationStore>(), handlers, Services.GetRequiredService<ServiceOptions>(),
        Services.GetRequiredService<LeaseSettings>(), Services.GetRequiredService<OperationSettings>(), NullLogger<OperationRunner>.Instance);

    private async Task<(HttpClient Client, Guid Owner)> UserAsync(string name)
    {
        var client = stack.Client(await stack.CreateUserKeyAsync(name));
        await using var db = await DbAsync();
        var owner = await db.ApiKeys.Where(k => k.Name == name).Select(k => k.Id).SingleAsync();
        return (client, owner);
    }

    private Task<TrainingDb> DbAsync() => Services.GetRequiredService<IDbContextFactory<TrainingDb>>().CreateDbContextAsync();

    private async Task<Operation> StartAsync(string kind, Guid owner, string text, string? subject = null)
    {
        await using var db = await DbAsync();
        return await Services.GetRequiredService<OperationStarter>().StartAsync(db, kind, owner, new JsonObject { ["text"] = text }, subject, CancellationToken.None);
    }

    [Fact]
    public async Task Runner_RecordsTheResultProgressAndProblems_WhenTheHandlerSucceeds()
    {
        var (client, owner) = await UserAsync("echo");
        var operation = await StartAsync("test-echo", owner, "hello");
        Assert.NotNull(operation.HangfireJobId);
        var queued = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{operation.Id}"));
        Assert.Equal("queued", queued["state"]!.GetValue<string>());

        await Runner(new EchoHandler()).ExecuteAsync(operation.Id, CancellationToken.None);

        var done = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{operation.Id}"));
        Assert.Equal("succeeded", done["state"]!.GetValue<string>());
        Assert.Equal(1.0, done["progress"]!.GetValue<double>());
        Assert.Equal("hello", done["result"]!["echo"]!.GetValue<string>());
        Assert.Equal(3, done["errors"]!["total"]!.GetValue<long>());
        Assert.Equal(2, done["errors"]!["counts"]!["bad-row"]!.GetValue<long>());
        Assert.Equal("rows.jsonl:9", done["errors"]!["problems"]![1]!["location"]!.GetValue<string>());
        Assert.Equal(1, done["attempts"]!.GetValue<int>());
        Assert.NotNull(done["finished_at"]);
        Assert.False(done.ContainsKey("input"), "the handler's arguments are not shown");

        // A second start (a duplicate Hangfire delivery) finds it ended and changes nothing.
        await Runner(new FailingHandler(), new EchoHandler()).ExecuteAsync(operation.Id, CancellationToken.None);
        Assert.Equal("succeeded", (await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{operation.Id}")))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Runner_RecordsTheHandlersReasonAndRethrows_WhenTheHandlerFails()
    {
        var (client, owner) = await UserAsync("fail");
        var operation = await StartAsync("test-fail", owner, "rows.jsonl");

        var thrown = await Assert.ThrowsAsync<OperationFailedException>(() => Runner(new FailingHandler()).ExecuteAsync(operation.Id, CancellationToken.None));
        Assert.Contains("on fire", thrown.Message);

        var failed = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{operation.Id}"));
        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        Assert.Equal("cannot read rows.jsonl: it is on fire", failed["message"]!.GetValue<string>());
        Assert.Null(failed["result"]);
    }

    [Fact]
    public async Task Runner_FailsTheOperation_WhenNoHandlerTakesItsKind()
    {
        var (client, owner) = await UserAsync("nohandler");
        var operation = await StartAsync("test-unknown", owner, "x");
        await Assert.ThrowsAsync<OperationFailedException>(() => Runner(new EchoHandler()).ExecuteAsync(operation.Id, CancellationToken.None));
        var failed = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{operation.Id}"));
        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        Assert.Contains("no handler for operations of kind 'test-unknown'", failed["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Runner_HandsTheOperationBack_WhenTheWorkerShutsDown()
    {
        var (client, owner) = await UserAsync("shutdown");
        var operation = await StartAsync("test-wait", owner, "x");
        var started = new TaskCompletionSource();
        using var shutdown = new CancellationTokenSource();
        var running = Runner(new WaitingHandler(started)).ExecuteAsync(operation.Id, shutdown.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("running", (await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{operation.Id}")))["state"]!.GetValue<string>());

        await shutdown.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        var handedBack = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{operation.Id}"));
        Assert.Equal("queued", handedBack["state"]!.GetValue<string>());
        Assert.Contains("handed back", handedBack["message"]!.GetValue<string>());

        // The next worker starts it over and finishes it.
        await Runner(new WaitingHandlerDone()).ExecuteAsync(operation.Id, CancellationToken.None);
        var done = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{operation.Id}"));
        Assert.Equal("succeeded", done["state"]!.GetValue<string>());
        Assert.Equal(2, done["attempts"]!.GetValue<int>());
    }

    /// <summary>The <c>test-wait</c> kind on a worker where it completes at once.</summary>
    private sealed class WaitingHandlerDone : IOperationHandler
    {
        public string Kind => "test-wait";

        public Task<JsonObject> RunAsync(OperationContext context, CancellationToken ct) => Task.FromResult(new JsonObject { ["done"] = true });
    }

    [Fact]
    public async Task Cancel_OfAQueuedOperation_EndsItAtOnce_AndASecondCancelIs409()
    {
        var (client, owner) = await UserAsync("canceller");
        var (stranger, _) = await UserAsync("stranger");
        var operation = await StartAsync("test-echo", owner, "x");
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/v1/operations/{operation.Id}/cancel", null)).StatusCode);

        var cancel = await client.PostAsync($"/v1/operations/{operation.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", (await ServiceStack.ReadJsonAsync(cancel))["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/v1/operations/{operation.Id}/cancel", null)).StatusCode);

        // A late Hangfire delivery of it does nothing.
        await Runner(new EchoHandler()).ExecuteAsync(operation.Id, CancellationToken.None);
        Assert.Equal("cancelled", (await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{operation.Id}")))["state"]!.GetValue<string>());
    }

    /// <summary>Ignores its token: finishes after it saw its operation cancelled, asking to store a model with the success.</summary>
    private sealed class StubbornHandler(TaskCompletionSource started, Func<Task<bool>> cancelled, Guid modelId) : IOperationHandler
    {
        public string Kind => "test-stubborn";

        public async Task<JsonObject> RunAsync(OperationContext context, CancellationToken ct)
        {
            started.TrySetResult();
            while (!await cancelled()) await Task.Delay(100, CancellationToken.None);
            context.StoreOnSuccess(db => db.Models.Add(new ModelRecord { Id = modelId, Name = "late", Source = "hf", Reference = "hf:x/y", CreatedAt = DateTimeOffset.UtcNow }));
            return new JsonObject { ["model"] = modelId.ToString() };
        }
    }

    [Fact]
    public async Task Cancel_OfARunningOperation_StopsItsWorker_AndNothingItWouldStoreIsStored()
    {
        var (client, owner) = await UserAsync("cancel-running");
        var operation = await StartAsync("test-stubborn", owner, "x");
        var modelId = Guid.CreateVersion7();
        var started = new TaskCompletionSource();
        async Task<bool> Cancelled()
        {
            await using var db = await DbAsync();
            return await db.Operations.AnyAsync(o => o.Id == operation.Id && o.State == OperationState.Cancelled);
        }
        var running = Runner(new StubbornHandler(started, Cancelled, modelId)).ExecuteAsync(operation.Id, CancellationToken.None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/v1/operations/{operation.Id}/cancel", null)).StatusCode);
        await running.WaitAsync(TimeSpan.FromSeconds(30));   // the runner returns: the operation is no longer its to record

        var cancelled = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations/{operation.Id}"));
        Assert.Equal("cancelled", cancelled["state"]!.GetValue<string>());
        Assert.Null(cancelled["result"]);
        await using var check = await DbAsync();
        Assert.False(await check.Models.AnyAsync(m => m.Id == modelId), "a cancelled operation stored its model");
    }

    [Fact]
    public async Task Reconciler_EnqueuesOperationsNobodyRuns_StoredButNeverEnqueued_OrWithASilentWorker()
    {
        var (_, owner) = await UserAsync("stranded");
        var longAgo = DateTimeOffset.UtcNow.AddMinutes(-5);
        var neverEnqueued = Operation.Create("test-echo", owner, "{}", "cpu", null, longAgo);
        await using (var db = await DbAsync())
        {
            db.Operations.Add(neverEnqueued);
            await db.SaveChangesAsync();
        }
        // A worker claimed this one and then went silent (killed): its heartbeat is older than the dead-after limit.
        var abandoned = await StartAsync("test-echo", owner, "x");
        var store = Services.GetRequiredService<OperationStore>();
        Assert.True(await store.ClaimAsync(abandoned.Id, "dead-node", TimeSpan.FromSeconds(30), CancellationToken.None));
        await using (var db = await DbAsync())
            await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE operations SET \"HeartbeatAt\" = {longAgo} WHERE \"Id\" = {abandoned.Id}");

        var reconciler = Services.GetServices<IHostedService>().OfType<OperationReconciler>().Single();
        await reconciler.ReconcileOnceAsync(CancellationToken.None);

        // The in-process API's own reconciler may have got there first: either way both are queued with a new Hangfire job.
        await using var check = await DbAsync();
        var rows = await check.Operations.AsNoTracking().Where(o => o.Id == neverEnqueued.Id || o.Id == abandoned.Id).ToListAsync();
        Assert.All(rows, o => Assert.Equal(OperationState.Queued, o.State));
        Assert.NotNull(rows.Single(o => o.Id == neverEnqueued.Id).HangfireJobId);
        Assert.Contains("never reached the queue", rows.Single(o => o.Id == neverEnqueued.Id).Message);
        var requeued = rows.Single(o => o.Id == abandoned.Id);
        Assert.NotEqual(abandoned.HangfireJobId, requeued.HangfireJobId);
        Assert.Contains("dead-node has been silent", requeued.Message);
        Assert.Null(requeued.Node);
    }

    [Fact]
    public async Task Start_OnASubjectInFlight_SharesTheOperation_AndStartsANewOneOnceItEnded()
    {
        var (_, owner) = await UserAsync("subject");
        var subject = $"test:{Guid.NewGuid():N}";
        var first = await StartAsync("test-echo", owner, "a", subject);
        var again = await StartAsync("test-echo", owner, "a", subject);
        Assert.Equal(first.Id, again.Id);

        await Runner(new EchoHandler()).ExecuteAsync(first.Id, CancellationToken.None);
        var next = await StartAsync("test-echo", owner, "a", subject);
        Assert.NotEqual(first.Id, next.Id);
    }

    [Fact]
    public async Task List_PagesNewestFirstWithCursors_AndShowsOnlyTheCallersOperations()
    {
        var (client, owner) = await UserAsync("lister");
        var (other, otherOwner) = await UserAsync("other");
        var mine = new List<Guid>();
        for (var i = 0; i < 5; i++) mine.Add((await StartAsync("test-echo", owner, $"n{i}")).Id);
        var theirs = await StartAsync("test-echo", otherOwner, "theirs");

        var seen = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ServiceStack.ReadJsonAsync(await client.GetAsync($"/v1/operations?limit=2{(cursor is null ? "" : $"&cursor={cursor}")}"));
            seen.AddRange(page["data"]!.AsArray().Select(o => Guid.Parse(o!["id"]!.GetValue<string>())));
            cursor = page["has_more"]!.GetValue<bool>() ? page["next"]!.GetValue<string>() : null;
            pages++;
        } while (cursor is not null);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(mine), seen);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1/operations/{mine[0]}")).StatusCode);
        var theirList = await ServiceStack.ReadJsonAsync(await other.GetAsync("/v1/operations?kind=test-echo&state=queued"));
        Assert.Equal([theirs.Id], theirList["data"]!.AsArray().Select(o => Guid.Parse(o!["id"]!.GetValue<string>())));
        var badState = await client.GetAsync("/v1/operations?state=done");
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.True((await ServiceStack.ReadJsonAsync(badState))["errors"]!.AsObject().ContainsKey("state"));
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/v1/operations?cursor=nonsense")).StatusCode);
    }
}
