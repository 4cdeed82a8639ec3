using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Internal;

namespace TpcCma.Service.Hosting;

/// <summary>
/// The memory cache reads time from an <see cref="ISystemClock"/>: this one is the service's <see cref="TimeProvider"/>,
/// so the API-key cache expires on the same clock as everything else (and on a test's fake clock).
/// </summary>
public sealed class TimeProviderClock(TimeProvider time) : ISystemClock
{
    public DateTimeOffset UtcNow => time.GetUtcNow();

    public static void Use(IServiceCollection services) =>
        services.AddOptions<MemoryCacheOptions>().Configure<TimeProvider>((cache, time) => cache.Clock = new TimeProviderClock(time));
}
