using System.Diagnostics;
using System.Net;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>Waits for a service process started by a test to answer <c>/healthz</c>, failing early with its output if it exits.</summary>
public static class HealthProbe
{
    /// <param name="output">The process's output so far, shown in the failure so a crash at startup explains itself.</param>
    public static async Task WaitHealthyAsync(Process process, string baseUrl, Func<string> output, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"service exited with {process.ExitCode}:\n{output()}");
            try
            {
                if ((await http.GetAsync(baseUrl + "/healthz")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"service not healthy after {timeout}:\n{output()}");
    }
}
