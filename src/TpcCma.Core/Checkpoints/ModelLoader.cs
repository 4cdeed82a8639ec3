using TorchSharp;
using TpcCma.Model;
using TpcCma.Tokenization;

namespace TpcCma.Checkpoints;

/// <summary>What <see cref="ModelLoader"/> needs beside the reference.</summary>
/// <param name="TokenizerPath">Tokenizer to use instead of (or, for OpenCLIP files and presets, in the absence of) the model's own.</param>
/// <param name="Hub">Required for <c>hf:</c> references.</param>
public sealed record ModelLoadOptions(string? TokenizerPath = null, DeviceOptions? Device = null, HubOptions? Hub = null);

/// <summary>
/// Turns a model reference into a <see cref="LoadedModel"/>. A reference is one of: <c>hf:ORG/NAME[@REV]</c>
/// (downloaded to the cache), a Hugging Face CLIP folder, an OpenAI/OpenCLIP-layout <c>.safetensors</c> file (a
/// tokenizer beside it, or named, is used), or a preset name (random OpenAI initialisation, for training from scratch).
/// </summary>
public static class ModelLoader
{
    public static LoadedModel Load(string reference, ModelLoadOptions? options = null) =>
        LoadAsync(reference, options).GetAwaiter().GetResult();

    public static async Task<LoadedModel> LoadAsync(string reference, ModelLoadOptions? options = null, CancellationToken ct = default)
    {
        options ??= new ModelLoadOptions();
        var device = options.Device ?? DeviceOptions.Cpu;
        var target = device.Device;   // fail on a bad device before any heavy work
        var tokenizer = options.TokenizerPath is { } path ? ClipTokenizer.Load(path) : null;

        ClipModel model;
        if (HubReference.IsHubReference(reference))
        {
            var hub = options.Hub ?? throw new ArgumentException($"'{reference}' is a hub reference but no hub is configured (base URL, cache folder, allowed hosts)");
            var folder = await new HubDownloader(hub).DownloadAsync(HubReference.Parse(reference), ct);
            model = HfClipCheckpoint.Load(folder);
            tokenizer ??= ClipTokenizer.Load(folder);
        }
        else if (Directory.Exists(reference))
        {
            if (!HfClipCheckpoint.IsHfDirectory(reference))
                throw new ArgumentException($"folder '{reference}' is not a Hugging Face CLIP folder (needs config.json and {HfClipCheckpoint.WeightsFile})");
            model = HfClipCheckpoint.Load(reference);
            tokenizer ??= ClipTokenizer.Load(reference);
        }
        else if (File.Exists(reference) && reference.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            model = OpenClipCheckpoint.Load(reference);
            tokenizer ??= TokenizerBeside(reference);
        }
        else if (ClipConfig.IsPreset(reference))
        {
            var config = ClipConfig.Preset(reference);
            // A tokenizer learned for training from scratch sets the vocabulary size.
            model = new ClipModel(tokenizer is null ? config : config with { VocabSize = tokenizer.VocabSize });
        }
        else
        {
            throw new ArgumentException($"model '{reference}' is not an hf: reference, a Hugging Face folder, a .safetensors file or a preset ({string.Join(", ", ClipConfig.PresetNames)})");
        }

        if (tokenizer is not null && tokenizer.VocabSize != model.Config.VocabSize)
        {
            model.Dispose();
            throw new ArgumentException($"tokenizer has {tokenizer.VocabSize} tokens but model '{reference}' has vocab_size {model.Config.VocabSize}");
        }
        model.to(target);
        return new LoadedModel(model, tokenizer, device, reference);
    }

    /// <summary>
    /// The tokenizer and context length of a reference without loading its weights (a hub model is still downloaded).
    /// A preset needs <see cref="ModelLoadOptions.TokenizerPath"/>.
    /// </summary>
    public static async Task<(ClipTokenizer Tokenizer, int ContextLength)> LoadTokenizerAsync(string reference, ModelLoadOptions? options = null, CancellationToken ct = default)
    {
        options ??= new ModelLoadOptions();
        var given = options.TokenizerPath is { } path ? ClipTokenizer.Load(path) : null;
        if (HubReference.IsHubReference(reference))
        {
            var hub = options.Hub ?? throw new ArgumentException($"'{reference}' is a hub reference but no hub is configured (base URL, cache folder, allowed hosts)");
            reference = await new HubDownloader(hub).DownloadAsync(HubReference.Parse(reference), ct);
        }
        if (Directory.Exists(reference) && HfClipCheckpoint.IsHfDirectory(reference))
            return (given ?? ClipTokenizer.Load(reference), HfClipConfig.Read(reference).ContextLength);
        if (File.Exists(reference) && reference.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            var tokenizer = given ?? TokenizerBeside(reference)
                ?? throw new ArgumentException($"no tokenizer beside '{reference}': pass a tokenizer path");
            return (tokenizer, OpenClipCheckpoint.ReadConfig(reference).ContextLength);
        }
        if (ClipConfig.IsPreset(reference))
            return (given ?? throw new ArgumentException($"preset '{reference}' has no tokenizer: pass a tokenizer path"), ClipConfig.Preset(reference).ContextLength);
        throw new ArgumentException($"model '{reference}' is not an hf: reference, a Hugging Face folder, a .safetensors file or a preset ({string.Join(", ", ClipConfig.PresetNames)})");
    }

    /// <summary>vocab.json + merges.txt or OpenAI's bpe_simple_vocab_16e6.txt.gz next to an OpenCLIP file, if there.</summary>
    private static ClipTokenizer? TokenizerBeside(string weights)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(weights))!;
        if (File.Exists(Path.Combine(folder, "vocab.json")) && File.Exists(Path.Combine(folder, "merges.txt"))) return ClipTokenizer.Load(folder);
        var gz = Path.Combine(folder, "bpe_simple_vocab_16e6.txt.gz");
        return File.Exists(gz) ? ClipTokenizer.Load(gz) : null;
    }
}
