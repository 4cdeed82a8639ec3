using TpcCma.Cli.Commands;
using TpcCma.Cli.Commands.Client;

namespace TpcCma.Cli;

/// <summary>Finds the command named by the leading words, parses the rest, maps failures to exit codes.</summary>
public static class CliApp
{
    /// <summary>Every command. Each lives in its own file under Commands/ and exposes a <c>Command</c>.</summary>
    public static IReadOnlyList<CliCommand> All { get; } =
    [
        VersionCommand.Command,
        DatasetsValidateCommand.Command,
        DatasetsStatsCommand.Command,
        DatasetsMakeSyntheticCommand.Command,
        DatasetsImportEmojiCommand.Command,
        DatasetsConvertCommand.Command,
        DatasetsImportIconsCommand.Command,
        EmbedCommand.Command,
        TokenizeCommand.Command,
        ExportCommand.Command,
        TrainCommand.Command,
        EvaluateCommand.Command,
        ScoreCommand.Command,
        .. JobsCommands.All,
        .. CheckpointsCommands.All,
        .. SweepsCommands.All,
        .. ModelsCommands.All,
        .. OperationsCommands.All,
    ];

    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var match = All
            .Where(c => IsPrefix(c.Words.Split(' '), args))
            .OrderByDescending(c => c.Words.Split(' ').Length)
            .FirstOrDefault();
        if (match is null || args.Contains("--help") || args.Contains("-h"))
        {
            PrintHelp(match, match is null ? stderr : stdout);
            return match is null && !(args.Length > 0 && args[0] is "--help" or "-h" or "help") ? ExitCodes.InvalidRequest : ExitCodes.Ok;
        }

        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var parsed = CliArgs.Parse(args[match.Words.Split(' ').Length..], match.Flags.ToHashSet());
            return await match.Run(parsed, cts.Token);
        }
        catch (CliUsageException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}\nusage: tpccma {match.Usage}");
            return ExitCodes.InvalidRequest;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.InvalidRequest;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static bool IsPrefix(string[] words, string[] args) =>
        args.Length >= words.Length && words.Select((w, i) => args[i] == w).All(x => x);

    private static void PrintHelp(CliCommand? command, TextWriter writer)
    {
        if (command is not null)
        {
            writer.WriteLine($"tpccma {command.Usage}\n\n{command.Summary}");
            return;
        }
        writer.WriteLine("usage: tpccma COMMAND [options]\n\ncommands:");
        foreach (var c in All.OrderBy(c => c.Words, StringComparer.Ordinal))
            writer.WriteLine($"  {c.Words,-24} {c.Summary}");
    }
}
