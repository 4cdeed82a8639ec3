using Hangfire.AspNetCore;
using Hangfire.Logging;

namespace TpcCma.Service.Hosting;

/// <summary>
/// Hangfire's log provider (process-wide) over this host's logger factory, that goes quiet rather than throwing
/// once that host has stopped: in a process that hosts the service more than once, the provider set last may belong
/// to a host already disposed, and Hangfire creates loggers while enqueueing (a retry filter's constructor), so a
/// disposed factory would fail another host's requests.
/// </summary>
public sealed class HostLogProvider(ILoggerFactory loggers) : ILogProvider
{
    private readonly AspNetCoreLogProvider inner = new(loggers);

    public ILog GetLogger(string name)
    {
        try { return inner.GetLogger(name); }
        catch (ObjectDisposedException) { return Silent.Instance; }
    }

    private sealed class Silent : ILog
    {
        public static readonly Silent Instance = new();
        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
    }
}
