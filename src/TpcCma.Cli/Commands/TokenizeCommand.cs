using System.CommandLine;
using System.Text.Json;
using TpcCma.Checkpoints;
using TpcCma.Cli.CommandLine;

namespace TpcCma.Cli.Commands;

/// <summary><c>tpccma tokenize</c>: the model's token ids (SOT, BPE ids, EOT, 0-padded) of each text, as JSON.</summary>
public static class TokenizeCommand
{
    private static readonly Option<int?> Context = new("--context") { HelpName = "N", Description = "Tokens per row (default: the model's context length)" };
    private static readonly Argument<string[]> Texts = new("TEXT") { Description = "The texts to tokenize", Arity = ArgumentArity.OneOrMore };

    public static CliCommand Command { get; } = new("tokenize",
        "Print the token ids of texts as a JSON array (one row per text)",
        [.. ModelArgs.Loading, Context, Texts], Run);

    private static async Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var reference = ModelArgs.Reference(args);
        var options = ModelArgs.Options(args, withDevice: false);
        var context = args.GetValue(Context);
        var texts = args.GetRequiredValue(Texts);

        var (tokenizer, modelContext) = await ModelLoader.LoadTokenizerAsync(reference, options, ct);
        using var ids = tokenizer.Tokenize(texts, context ?? modelContext);
        var rows = Enumerable.Range(0, texts.Length).Select(i => ids[i].data<long>().ToArray()).ToList();
        Console.WriteLine(JsonSerializer.Serialize(rows));
        return ExitCodes.Ok;
    }
}
