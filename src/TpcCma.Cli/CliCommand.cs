using System.CommandLine;

namespace TpcCma.Cli;

/// <summary>
/// One command: its words (<c>datasets validate</c>), a one-line summary, the options and arguments it declares,
/// and its handler. <see cref="CliApp"/> turns the list of these into System.CommandLine's tree, so a new command
/// is one file under Commands/ exposing such a record and one line in <see cref="CliApp.All"/>.
/// </summary>
public sealed record CliCommand(
    string Words,
    string Summary,
    IReadOnlyList<Symbol> Symbols,
    Func<ParseResult, CancellationToken, Task<int>> Run);
