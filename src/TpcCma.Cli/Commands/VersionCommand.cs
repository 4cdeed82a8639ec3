using System.CommandLine;
using TpcCma.Cli.CommandLine;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma version</c>: the tool's version and the TorchSharp backend it loaded.</summary>
public static class VersionCommand
{
    public static CliCommand Command { get; } = new("version", "Print the version and the torch backend", [], Run);

    private static Task<int> Run(ParseResult args, CancellationToken ct)
    {
        Console.WriteLine($"tpccma {CommandLineHost.Version(typeof(VersionCommand).Assembly)}");
        Console.WriteLine($"torch: cuda available = {TorchSharp.torch.cuda.is_available()}, threads = {TorchSharp.torch.get_num_threads()}");
        return Task.FromResult(ExitCodes.Ok);
    }
}
