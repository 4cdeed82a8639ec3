using TpcCma.Cli;

namespace TpcCma.Cli.Tests;

/// <summary>Runs <c>tpccma</c> in-process with its standard output and error captured (Console too, for commands that write there).</summary>
public static class CliCapture
{
    public static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var (previousOut, previousErr) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try { return (await CliApp.RunAsync(args, stdout, stderr), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(previousOut); Console.SetError(previousErr); }
    }
}

/// <summary>Runs alone: commands print to the process-wide Console, which these tests capture.</summary>
[CollectionDefinition("Console", DisableParallelization = true)]
public class ConsoleCollection;
