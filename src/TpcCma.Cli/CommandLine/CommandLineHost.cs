using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;

namespace TpcCma.Cli.CommandLine;

/// <summary>
/// Parses and runs a System.CommandLine tree the way both tools do: a command line the parser refuses prints each
/// error (naming the option) and exits 2; Ctrl-C cancels the handler's token and exits 3; the exceptions a tool
/// names as bad input exit 2 with their message; everything else is the handler's own exit code.
/// Shared by <c>tpccma</c> and <c>tpccma-bench</c> (the bench links this file).
/// </summary>
internal static class CommandLineHost
{
    /// <summary>
    /// A root command with <c>--version</c> printing <paramref name="tool"/> and the informational version, and the
    /// parser's own help (<c>-h</c>, <c>--help</c>) and completion directive (<c>[suggest]</c>, for dotnet-suggest).
    /// </summary>
    public static RootCommand Root(string tool, string description, Assembly assembly)
    {
        var root = new RootCommand(description);
        foreach (var option in root.Options.OfType<VersionOption>()) option.Action = new PrintVersion($"{tool} {Version(assembly)}");
        // `TOOL [diagram] ARGS...` shows how a command line parses without running it (exit 2 when it does not).
        root.Directives.Add(new DiagramDirective { ParseErrorReturnValue = ExitCodes.InvalidRequest });
        return root;
    }

    public static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <param name="isBadInput">Exceptions that mean the input was wrong (a missing file, a malformed value): exit 2.</param>
    public static async Task<int> RunAsync(string tool, RootCommand root, string[] args, TextWriter stdout, TextWriter stderr, Func<Exception, bool> isBadInput)
    {
        var result = Parse(root, args);
        if (result.Action is ParseErrorAction)
        {
            foreach (var error in result.Errors) await stderr.WriteLineAsync($"error: {error.Message}");
            await stderr.WriteLineAsync($"usage: {Path(tool, result.CommandResult.Command)} [options]; '{Path(tool, result.CommandResult.Command)} --help' lists them");
            return ExitCodes.InvalidRequest;
        }

        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            // Our own Ctrl-C handling (exit 3 once the handler stops) and exception mapping, not the library's.
            var configuration = new InvocationConfiguration
            {
                Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
            };
            return await result.InvokeAsync(configuration, cts.Token);
        }
        catch (CliUsageException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}\nusage: {Path(tool, result.CommandResult.Command)} [options]; '{Path(tool, result.CommandResult.Command)} --help' lists them");
            return ExitCodes.InvalidRequest;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex) when (isBadInput(ex))
        {
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.InvalidRequest;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>No response files: an argument starting with '@' (a caption, a text to tokenize) is meant literally.</summary>
    public static ParseResult Parse(RootCommand root, string[] args) => root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>The words that reach a command: <c>tpccma datasets validate</c>.</summary>
    private static string Path(string tool, Command command)
    {
        var words = new List<string>();
        for (Symbol? s = command; s is not null; s = s.Parents.FirstOrDefault()) words.Insert(0, s is RootCommand ? tool : s.Name);
        return string.Join(' ', words);
    }

    private sealed class PrintVersion(string line) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(line);
            return ExitCodes.Ok;
        }
    }
}
