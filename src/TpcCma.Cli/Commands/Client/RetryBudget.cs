using System.Diagnostics;
using System.Globalization;
using Polly;
using Polly.Retry;

namespace TpcCma.Cli.Commands.Client;

/// <summary>
/// Lets a client command outlive a restart of the service: a read (GET) that finds the connection refused or dropped,
/// or is answered 408, 429 or 5xx (a restarting API, or a proxy in front of one), is retried by a Polly pipeline with
/// backoff (0.5 s doubling up to 5 s) until the service has been unreachable for the budget (<c>--retry-for</c>), or
/// until the caller's own deadline; then the last answer or error ends the command. Requests that change something
/// (submit, cancel) are never retried, and neither is a wrong host name, a bad certificate or any other 4xx.
/// </summary>
public sealed class RetryBudget(TimeSpan budget, TextWriter log)
{
    public const double WaitSeconds = 120;
    public const double ReadSeconds = 10;

    /// <summary>Set on a request: time left before the caller's deadline (<c>--timeout</c>), which bounds the retrying too.</summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> Deadline = new("tpccma.deadline");

    private static readonly ResiliencePropertyKey<TimeSpan> Limit = new("tpccma.limit");
    private static readonly ResiliencePropertyKey<Stopwatch> Outage = new("tpccma.outage");
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    private TimeSpan Budget { get; } = budget;
    private TextWriter Log { get; } = log;
    private ResiliencePipeline<HttpResponseMessage>? pipeline;

    /// <summary>The handler an <see cref="HttpClient"/> sends through: reads go through the pipeline, the rest straight out.</summary>
    public HttpMessageHandler Handler() => new RetryingHandler(this) { InnerHandler = new SocketsHttpHandler() };

    private ResiliencePipeline<HttpResponseMessage> Pipeline => pipeline ??= new ResiliencePipelineBuilder<HttpResponseMessage>()
        .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            // Bounded by time (the budget), not by a count: the predicate stops when the next wait would overrun it.
            MaxRetryAttempts = int.MaxValue,
            ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome) && !args.Context.CancellationToken.IsCancellationRequested
                && Fits(args.Context, DelayAfter(args.AttemptNumber))),
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(DelayAfter(args.AttemptNumber)),
            OnRetry = args =>
            {
                var limit = args.Context.Properties.GetValue(Limit, Budget);
                Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"the service is unreachable ({Describe(args.Outcome)}); retrying in {args.RetryDelay.TotalSeconds:F1} s (gives up after {limit.TotalSeconds:F0} s)"));
                return default;
            },
        })
        .Build();

    /// <summary>0.5 s, 1 s, 2 s, 4 s, then 5 s between attempts.</summary>
    public static TimeSpan DelayAfter(int attempt) =>
        attempt >= 4 ? MaxDelay : TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstDelay.Ticks << attempt));

    /// <summary>What a restart or a proxy in front of one looks like.</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException request } =>
            request.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded or HttpRequestError.Unknown,
        { Result: { } response } => IsTransient(response),
        _ => false,
    };

    private static bool IsTransient(HttpResponseMessage response) => (int)response.StatusCode is 408 or 429 or >= 500;

    /// <summary>Starts the outage clock at the first failure; true while the next wait still ends inside the limit.</summary>
    private static bool Fits(ResilienceContext context, TimeSpan nextDelay)
    {
        if (!context.Properties.TryGetValue(Outage, out var outage))
        {
            outage = Stopwatch.StartNew();
            context.Properties.Set(Outage, outage);
        }
        return outage.Elapsed + nextDelay <= context.Properties.GetValue(Limit, TimeSpan.Zero);
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception?.Message ?? $"{(int)outcome.Result!.StatusCode} {outcome.Result.ReasonPhrase}";

    private sealed class RetryingHandler(RetryBudget retry) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            if (request.Method != HttpMethod.Get || retry.Budget <= TimeSpan.Zero) return await base.SendAsync(request, ct);
            var context = ResilienceContextPool.Shared.Get(ct);
            try
            {
                var limit = request.Options.TryGetValue(Deadline, out var left) && left < retry.Budget ? left : retry.Budget;
                context.Properties.Set(Limit, limit);
                var response = await retry.Pipeline.ExecuteAsync(
                    static (ctx, state) => new ValueTask<HttpResponseMessage>(state.Handler.SendOnce(state.Request, ctx.CancellationToken)),
                    context, (Handler: this, Request: request));
                if (context.Properties.TryGetValue(Outage, out var outage) && !IsTransient(response))
                    retry.Log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the service answers again after {outage.Elapsed.TotalSeconds:F1} s"));
                return response;
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        private Task<HttpResponseMessage> SendOnce(HttpRequestMessage request, CancellationToken ct) => base.SendAsync(request, ct);
    }
}
