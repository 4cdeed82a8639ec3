using TpcCma.Data;
using static TorchSharp.torch;

namespace TpcCma.Runs;

/// <summary>
/// The final model's embeddings of a few held-out pairs, computed from the weights in memory when the run ends.
/// Whoever downloads the checkpoint (in any format) can load it, embed the same samples and compare: equal
/// embeddings prove the file is the model the run trained and that their loader reads it the way we do.
/// </summary>
/// <param name="Split">The split the samples come from.</param>
/// <param name="SampleIds">Sample ids, in the order of the rows.</param>
/// <param name="Captions">The caption embedded for each sample (its first).</param>
/// <param name="Image">Normalised image embeddings, one row per sample.</param>
/// <param name="Text">Normalised text embeddings, one row per sample.</param>
public sealed record EmbeddingFingerprint(string Split, IReadOnlyList<string> SampleIds, IReadOnlyList<string> Captions,
    float[][] Image, float[][] Text)
{
    public const int DefaultCount = 4;

    public static EmbeddingFingerprint Compute(ModelEmbedder embedder, ImageTextDataset dataset, string split, int count = DefaultCount)
    {
        var model = embedder.Model;
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            var samples = RunEvaluator.Subset(dataset.Samples, count);
            var captions = samples.Select(s => s.Captions[0]).ToList();
            var image = embedder.EmbedImages(dataset.WithSamples(samples));
            var text = embedder.EmbedTexts(captions);
            return new EmbeddingFingerprint(split, [.. samples.Select(s => s.Id)], captions, Rows(image), Rows(text));
        }
        finally { model.train(wasTraining); }
    }

    /// <summary>Largest absolute difference between this fingerprint and embeddings of the same samples.</summary>
    public double MaxAbsDifference(float[][] image, float[][] text)
    {
        if (image.Length != Image.Length || text.Length != Text.Length || image.Concat(text).Any(r => r.Length != Image[0].Length))
            throw new ArgumentException($"expected {Image.Length} image and {Text.Length} text rows of {Image[0].Length} values");
        return Image.Zip(image).Concat(Text.Zip(text)).SelectMany(p => p.First.Zip(p.Second, (a, b) => (double)Math.Abs(a - b))).Max();
    }

    public static float[][] Rows(Tensor embeddings)
    {
        var cpu = embeddings.cpu();
        return [.. Enumerable.Range(0, (int)cpu.shape[0]).Select(i => cpu[i].data<float>().ToArray())];
    }
}
