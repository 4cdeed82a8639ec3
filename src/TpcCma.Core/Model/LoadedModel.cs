using TpcCma.Tokenization;

namespace TpcCma.Model;

/// <summary>A model ready to use: weights on their device, the tokenizer (null only for a preset loaded without one), and the device settings.</summary>
/// <param name="Source">The reference it was loaded from.</param>
public sealed record LoadedModel(ClipModel Model, ClipTokenizer? Tokenizer, DeviceOptions Device, string Source) : IDisposable
{
    public ClipConfig Config => Model.Config;

    /// <summary>The tokenizer, or an error naming the missing option when the model came without one.</summary>
    public ClipTokenizer RequireTokenizer() => Tokenizer
        ?? throw new ArgumentException($"model '{Source}' has no tokenizer: pass a tokenizer path (folder with vocab.json + merges.txt, or a bpe .txt.gz)");

    public void Dispose() => Model.Dispose();
}
