using TpcCma.Checkpoints;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma export</c>: writes a model as a Hugging Face CLIP folder or an OpenCLIP-layout .safetensors file.</summary>
public static class ExportCommand
{
    public static CliCommand Command { get; } = new("export",
        "Export a model as a Hugging Face folder (--format hf) or an OpenCLIP .safetensors file (--format openclip)",
        $"export {ModelArgs.Usage} --format hf|openclip --out PATH", Run);

    private static async Task<int> Run(CliArgs args, CancellationToken ct)
    {
        var reference = ModelArgs.Reference(args);
        var options = ModelArgs.Options(args, withDevice: false);
        var format = args.Required("format");
        var output = args.Required("out");
        ModelArgs.RejectUnknown(args);
        if (format is not ("hf" or "openclip")) throw new CliUsageException($"--format must be hf or openclip, got '{format}'");
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
