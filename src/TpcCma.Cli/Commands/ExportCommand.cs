using System.CommandLine;
using TpcCma.Checkpoints;
using TpcCma.Cli.CommandLine;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma export</c>: writes a model as a Hugging Face CLIP folder or an OpenCLIP-layout .safetensors file.</summary>
public static class ExportCommand
{
    private static readonly Option<string> Format = CliOptions.Choice("--format", "hf: a Hugging Face CLIP folder; openclip: one OpenCLIP-layout .safetensors file",
        ["hf", "openclip"], required: true);
    private static readonly Option<string> Out = CliOptions.Text("--out", "PATH", "The folder (hf) or .safetensors file (openclip) to write", required: true);

    public static CliCommand Command { get; } = new("export",
        "Export a model as a Hugging Face folder (--format hf) or an OpenCLIP .safetensors file (--format openclip)",
        [.. ModelArgs.Loading, Format, Out], Run);

    private static async Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var reference = ModelArgs.Reference(args);
        var options = ModelArgs.Options(args, withDevice: false);
        var format = args.GetRequiredValue(Format);
        var output = args.GetRequiredValue(Out);
        if (format == "openclip" && !output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new CliUsageException($"--out for --format openclip must end in .safetensors, got '{output}'");

        using var loaded = await ModelLoader.LoadAsync(reference, options, ct);
        if (format == "hf")
            HfClipCheckpoint.Save(loaded.Model, loaded.RequireTokenizer(), output);
        else
            OpenClipCheckpoint.Save(loaded.Model, output);
        Console.WriteLine($"exported {reference} as {format} to {output}");
        return ExitCodes.Ok;
    }
}
