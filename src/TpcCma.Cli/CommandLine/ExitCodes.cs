namespace TpcCma.Cli;

/// <summary>Process exit codes shared by every command of both tools (CI pipelines branch on them).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int InvalidRequest = 2;
    public const int Cancelled = 3;
    public const int TimedOut = 4;
}

/// <summary>The command line is wrong in a way only the handler can see (a value that depends on another): exit code 2 and the message.</summary>
public sealed class CliUsageException(string message) : Exception(message);
