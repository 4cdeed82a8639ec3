using TpcCma.Data;
using TpcCma.Model;
using TpcCma.Tokenization;
using static TorchSharp.torch;

namespace TpcCma.Runs;

/// <summary>
/// Normalised float32 embeddings of a data set's images and of texts, in eval batches without gradients: the one
/// way evaluation, the final-embedding fingerprint and anyone checking a downloaded checkpoint embed.
/// </summary>
/// <param name="autocast">The dtype of the matrix products (a job's precision); null: float32. One autocast scope per
/// pass, so each weight is cast once per pass.</param>
public sealed class ModelEmbedder(ClipModel model, ClipTokenizer tokenizer, ClipImageProcessor processor, ScalarType? autocast = null)
{
    private const int BatchSize = 128;

    public ClipModel Model => model;

    /// <summary>Image embeddings in the data set's sample order, [N, E].</summary>
    public Tensor EmbedImages(ImageTextDataset dataset)
    {
        using var _ = no_grad();
        using var precision = Autocast.Enter(autocast);
        var loader = new ImageTextLoader(dataset, processor, new LoaderOptions(BatchSize, Shuffle: false));
        var device = model.LogitScaleParameter.device;
        var parts = loader.ReadEpoch(0).Select(batch => { using (batch) return Normalise(model.encode_image(batch.Pixels.to(device))); }).ToList();
        return cat(parts, 0);
    }

    /// <summary>Text embeddings in the given order, [N, E].</summary>
    public Tensor EmbedTexts(IReadOnlyList<string> texts)
    {
        using var _ = no_grad();
        using var precision = Autocast.Enter(autocast);
        var device = model.LogitScaleParameter.device;
        var parts = texts.Chunk(BatchSize * 2)
            .Select(chunk => Normalise(model.encode_text(tokenizer.Tokenize(chunk, model.Config.ContextLength).to(device))))
            .ToList();
        return cat(parts, 0);
    }

    public static Tensor Normalise(Tensor features) => nn.functional.normalize(features.to_type(ScalarType.Float32), p: 2, dim: 1);
}
