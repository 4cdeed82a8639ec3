using System.Reflection;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma version</c>: the tool's version and the TorchSharp backend it loaded.</summary>
public static class VersionCommand
{
    public static CliCommand Command { get; } = new("version", "Print the version and the torch backend", "version", Run);

    private static Task<int> Run(CliArgs args, CancellationToken ct)
    {
        var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        Console.WriteLine($"tpccma {version}");
        Console.WriteLine($"torch: cuda available = {TorchSharp.torch.cuda.is_available()}, threads = {TorchSharp.torch.get_num_threads()}");
        return Task.FromResult(ExitCodes.Ok);
    }
}
