using System.Text.Json;
using TpcCma.Checkpoints;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma tokenize</c>: the model's token ids (SOT, BPE ids, EOT, 0-padded) of each text, as JSON.</summary>
public static class TokenizeCommand
{
    public static CliCommand Command { get; } = new("tokenize",
        "Print the token ids of texts as a JSON array (one row per text)",
        $"tokenize {ModelArgs.Usage} [--context N] TEXT...", Run);

    private static async Task<int> Run(CliArgs args, CancellationToken ct)
    {
        var reference = ModelArgs.Reference(args);
        var options = ModelArgs.Options(args, withDevice: false);
        var context = args.Optional("context") is null ? (int?)null : args.Int("context", 0);
        ModelArgs.RejectUnknown(args);
        if (args.Positionals.Count == 0) throw new CliUsageException("give at least one TEXT to tokenize");

        var (tokenizer, modelContext) = await ModelLoader.LoadTokenizerAsync(reference, options, ct);
        using var ids = tokenizer.Tokenize(args.Positionals, context ?? modelContext);
        var rows = Enumerable.Range(0, args.Positionals.Count).Select(i => ids[i].data<long>().ToArray()).ToList();
        Console.WriteLine(JsonSerializer.Serialize(rows));
        return ExitCodes.Ok;
    }
}
