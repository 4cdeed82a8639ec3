using System.Diagnostics;

namespace TpcCma.Diagnostics;

/// <summary>
/// Named points where the fault tests make a process die or a dependency fail, so that a crash lands exactly in the
/// window under test (between two writes) rather than wherever a timer happens to fire. Inert unless the process was
/// started with <c>TPCCMA_FAULT=point</c> or <c>TPCCMA_FAULT=point@step</c>; read once at startup.
/// </summary>
public static class FaultInjection
{
    public const string Variable = "TPCCMA_FAULT";

    private static readonly (string Point, long? Step)? Armed = Parse(Environment.GetEnvironmentVariable(Variable));

    /// <summary>SIGKILLs this process when the armed point (and step, if one was given) is reached.</summary>
    public static void KillAt(string point, long step = 0)
    {
        if (IsArmed(point, step)) Process.GetCurrentProcess().Kill();
    }

    /// <summary>Whether the armed point (and step, if one was given) is this one.</summary>
    public static bool IsArmed(string point, long step = 0) =>
        Armed is { } armed && armed.Point == point && (armed.Step is null || armed.Step == step);

    private static (string, long?)? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var at = value.IndexOf('@');
        return at < 0 ? (value.Trim(), null) : (value[..at].Trim(), long.Parse(value[(at + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
