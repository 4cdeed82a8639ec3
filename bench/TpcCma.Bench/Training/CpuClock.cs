using System.Diagnostics;

namespace TpcCma.Bench.Training;

/// <summary>
/// CPU time the process has used, all threads together. On cores shared with other work, wall time per step
/// swings with the load; CPU time per step counts only this process's work, so small overheads stay visible.
/// </summary>
internal static class CpuClock
{
    public static double ProcessMilliseconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalMilliseconds;
    }
}
