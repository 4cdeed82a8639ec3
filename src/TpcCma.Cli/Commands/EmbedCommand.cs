using TpcCma.Data;
using System.CommandLine;
using System.Text.Json;
using TorchSharp;
using TpcCma.Checkpoints;
using TpcCma.Cli.CommandLine;
using TpcCma.Model;
using static TorchSharp.torch;

namespace TpcCma.Cli.Commands;

/// <summary>
/// <c>tpccma embed</c>: image and text embeddings of a model, written to one .safetensors file: <c>image_embeds</c>,
/// <c>text_embeds</c> (projected, unnormalised), their L2-normalised <c>*_norm</c> forms, <c>logit_scale</c> (log
/// space, as checkpoints store it) and <c>logit_scale_exp</c> (the clamped factor applied to cosine similarities).
/// </summary>
public static class EmbedCommand
{
    private static readonly Option<string> Images = CliOptions.Text("--images", "DIR|PIXELS.safetensors",
        "A folder of image files (name order), or a .safetensors file holding normalised pixel_values [N, 3, H, W]");
    private static readonly Option<string> Texts = CliOptions.Text("--texts", "FILE", "Texts: a JSON array of strings, or one text per line");
    private static readonly Option<string> Out = CliOptions.Text("--out", "OUT.safetensors", "The file to write", required: true);
    private static readonly Option<int> BatchSize = CliOptions.Int("--batch-size", "N", "Rows encoded at once", 64, min: 1);

    public static CliCommand Command { get; } = new("embed",
        "Write image and text embeddings of a model to a .safetensors file",
        [.. ModelArgs.Loading, .. ModelArgs.Computing, Images, Texts, Out, BatchSize], Run);

    private static readonly HashSet<string> ImageExtensions = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"];

    private static async Task<int> Run(ParseResult args, CancellationToken ct)
    {
        var reference = ModelArgs.Reference(args);
        var options = ModelArgs.Options(args);
        var imagesPath = args.GetValue(Images);
        var textsPath = args.GetValue(Texts);
        var output = args.GetRequiredValue(Out);
        var batchSize = args.GetValue(BatchSize);
        if (imagesPath is null && textsPath is null) throw new CliUsageException("give --images, --texts or both");
        if (imagesPath is not null && !Directory.Exists(imagesPath) && !(File.Exists(imagesPath) && imagesPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)))
            throw new CliUsageException($"--images must be a folder of image files or a .safetensors file holding normalised pixel_values [N, 3, H, W]; '{imagesPath}' is neither");
        var texts = textsPath is null ? null : ReadTexts(textsPath);

        using var loaded = await ModelLoader.LoadAsync(reference, options, ct);
        var model = loaded.Model;
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var results = new Dictionary<string, Tensor>();
        if (imagesPath is not null && Directory.Exists(imagesPath))
        {
            // Image files in ordinal name order, each through the model's own CLIP preprocessing.
            var config = loaded.Config;
            var processor = new ClipImageProcessor(ImageProcessorConfig.For(config));
            var files = Directory.GetFiles(imagesPath).Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new CliUsageException($"--images folder '{imagesPath}' holds no .png, .jpg, .jpeg, .gif, .bmp or .webp file");
            var pixels = stack(files.Select(f => { using var image = ImageLoader.Load(f); return processor.Process(image); }).ToList());   // [N, 3, S, S]
            results["image_embeds"] = Batched(pixels, batchSize, loaded, model.encode_image, ct);
            Console.WriteLine($"images: {files.Count} files from {imagesPath}, in name order");
        }
        else if (imagesPath is not null)
        {
            using var file = Safetensors.Read(imagesPath);
            results["image_embeds"] = Batched(file["pixel_values"], batchSize, loaded, model.encode_image, ct);
        }
        if (texts is not null)
        {
            var ids = loaded.RequireTokenizer().Tokenize(texts, loaded.Config.ContextLength);
            results["text_embeds"] = Batched(ids, batchSize, loaded, model.encode_text, ct);
        }
        foreach (var name in results.Keys.ToList())
            results[name + "_norm"] = nn.functional.normalize(results[name], p: 2, dim: -1);
        results["logit_scale"] = model.LogitScaleParameter.detach().cpu();
        results["logit_scale_exp"] = model.LogitScaleParameter.detach().exp().clamp_max(100).cpu();
        Safetensors.Write(output, results);
        Console.WriteLine($"wrote {string.Join(", ", results.Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.shape)}]"))} to {output}");
        return ExitCodes.Ok;
    }

    /// <summary>Runs <paramref name="encode"/> over row batches on the model's device; returns float32 CPU rows.</summary>
    private static Tensor Batched(Tensor input, int batchSize, LoadedModel loaded, Func<Tensor, Tensor> encode, CancellationToken ct)
    {
        var device = loaded.Device.Device;
        var parts = new List<Tensor>();
        using var autocast = loaded.Device.EnterAutocast();   // one scope for the pass: each weight cast once
        for (long start = 0; start < input.shape[0]; start += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            var batch = input.narrow(0, start, Math.Min(batchSize, input.shape[0] - start)).to(device);
            parts.Add(encode(batch).to(ScalarType.Float32).cpu());
        }
        return parts.Count == 0 ? zeros(0, loaded.Config.EmbedDim) : cat(parts, 0);
    }

    /// <summary>A JSON array of strings, or one text per non-empty line.</summary>
    private static List<string> ReadTexts(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"texts file not found: {path}", path);
        var content = File.ReadAllText(path);
        if (content.TrimStart().StartsWith('['))
        {
            try
            {
                return JsonSerializer.Deserialize<List<string>>(content) ?? [];
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}: a texts file starting with '[' must be a JSON array of strings: {ex.Message}");
            }
        }
        return content.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToList();
    }
}
