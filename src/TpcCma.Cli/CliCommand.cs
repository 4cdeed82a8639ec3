namespace TpcCma.Cli;

/// <summary>One command: its words (<c>datasets validate</c>), a one-line summary, usage, and its handler.</summary>
/// <param name="Flags">Option names that take no value.</param>
public sealed record CliCommand(
    string Words,
    string Summary,
    string Usage,
    Func<CliArgs, CancellationToken, Task<int>> Run,
    params string[] Flags);

/// <summary>Process exit codes shared by every command (CI pipelines branch on them).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int InvalidRequest = 2;
    public const int Cancelled = 3;
    public const int TimedOut = 4;
}
