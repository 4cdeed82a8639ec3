using System.CommandLine;
using TpcCma.Cli.CommandLine;
using TpcCma.Cli.Commands;
using TpcCma.Cli.Commands.Client;

namespace TpcCma.Cli;

/// <summary>Builds the command tree from <see cref="All"/>, parses with System.CommandLine and maps failures to exit codes.</summary>
public static class CliApp
{
    /// <summary>
    /// Every command. Each lives in its own file under Commands/ and exposes a <see cref="CliCommand"/>; adding one is
    /// a line here (its words place it: <c>"operations wait"</c> lands under an <c>operations</c> group).
    /// </summary>
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

    /// <summary>What the groups of commands are for, shown by <c>tpccma --help</c>.</summary>
    private static readonly Dictionary<string, string> Groups = new(StringComparer.Ordinal)
    {
        ["datasets"] = "Check, summarise, make, import and convert image-text data sets",
        ["jobs"] = "Submit, follow, inspect and cancel training jobs on the service",
        ["checkpoints"] = "List and download a job's checkpoints from the service",
        ["sweeps"] = "Submit and inspect sweeps over alpha_target on the service",
        ["models"] = "Import models into the service and show them",
        ["operations"] = "Show and wait for the service's long-running operations (imports, conversions, validations)",
    };

    /// <summary>Built once: the options are shared instances, and parsing does not change the tree.</summary>
    private static readonly Lazy<RootCommand> Root = new(Build);

    public static Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null) =>
        CommandLineHost.RunAsync("tpccma", Root.Value, Normalise(args), stdout ?? Console.Out, stderr ?? Console.Error,
            ex => ex is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException);

    /// <summary>Parses without running anything: what a command line would do, and its errors.</summary>
    public static ParseResult Parse(params string[] args) => CommandLineHost.Parse(Root.Value, Normalise(args));

    /// <summary><c>tpccma help [COMMAND...]</c> is kept as another spelling of <c>--help</c>.</summary>
    private static string[] Normalise(string[] args) => args is ["help", .. var rest] ? [.. rest, "--help"] : args;

    private static RootCommand Build()
    {
        var root = CommandLineHost.Root("tpccma", "TPC-CMA: data sets, training, evaluation and export offline, and the client of the service.",
            typeof(CliApp).Assembly);
        foreach (var definition in All)
        {
            Command parent = root;
            var words = definition.Words.Split(' ');
            foreach (var group in words[..^1])
            {
                var existing = parent.Subcommands.FirstOrDefault(c => c.Name == group);
                if (existing is null)
                {
                    existing = new Command(group, Groups.GetValueOrDefault(group));
                    parent.Subcommands.Add(existing);
                }
                parent = existing;
            }
            var command = new Command(words[^1], definition.Summary);
            foreach (var symbol in definition.Symbols)
            {
                if (symbol is Option option) command.Options.Add(option);
                else command.Arguments.Add((Argument)symbol);
            }
            command.SetAction(definition.Run);
            parent.Subcommands.Add(command);
        }
        return root;
    }
}
