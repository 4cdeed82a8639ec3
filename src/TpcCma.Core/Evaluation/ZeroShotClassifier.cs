using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Evaluation;

/// <summary>Zero-shot top-1 accuracy over the labelled images of a split.</summary>
/// <param name="Top1">Share of labelled images whose most similar class prompt is their class.</param>
/// <param name="Images">Labelled images scored (images with label -1 are skipped).</param>
public sealed record ZeroShotResult(double Top1, int Images, int Classes, int Templates);

/// <summary>
/// Zero-shot classification (METHOD.md, "Evaluation protocol"): each class name goes through the prompt
/// templates, the normalised text embeddings are averaged over templates and renormalised, and each image
/// takes the class of highest cosine. Text encoding is a delegate, so any model can be plugged in.
/// </summary>
public static class ZeroShotClassifier
{
    /// <summary>The default templates; <c>{}</c> stands for the class name.</summary>
    public static IReadOnlyList<string> DefaultTemplates { get; } = ["a photo of a {}.", "{}"];

    /// <summary>[C, D] normalised class embeddings (float32, the encoder's device), owned by the caller.</summary>
    /// <param name="encodeText">Encodes a batch of texts to [B, D] features (normalised or not).</param>
    public static Tensor ClassEmbeddings(
        IReadOnlyList<string> classNames, IReadOnlyList<string> templates, Func<IReadOnlyList<string>, Tensor> encodeText)
    {
        if (classNames.Count == 0) throw new ArgumentException("no class names");
        if (templates.Count == 0) throw new ArgumentException("no prompt templates");
        foreach (var template in templates.Where(t => !t.Contains("{}", StringComparison.Ordinal)))
            throw new ArgumentException($"prompt template '{template}' has no {{}} placeholder for the class name");

        using var scope = NewDisposeScope();
        Tensor? sum = null;
        foreach (var template in templates)
        {
            var prompts = classNames.Select(name => template.Replace("{}", name, StringComparison.Ordinal)).ToArray();
            var features = encodeText(prompts);
            if (features.dim() != 2 || features.shape[0] != classNames.Count)
                throw new ArgumentException($"the text encoder returned {GapGeometry.Shape(features)} for {classNames.Count} prompts");
            var normalised = nn.functional.normalize(features.detach().to_type(ScalarType.Float32), p: 2, dim: 1);
            sum = sum is null ? normalised : sum + normalised;
        }
        return nn.functional.normalize(sum!, p: 2, dim: 1).MoveToOuterDisposeScope();
    }

    /// <param name="imageEmbeddings">[N, D] image embeddings.</param>
    /// <param name="labels">Class index per image, or -1 for an unlabelled image.</param>
    /// <param name="classEmbeddings">[C, D] from <see cref="ClassEmbeddings"/>.</param>
    public static double Accuracy(Tensor imageEmbeddings, IReadOnlyList<int> labels, Tensor classEmbeddings, out int scored)
    {
        if (imageEmbeddings.dim() != 2 || imageEmbeddings.shape[0] != labels.Count)
            throw new ArgumentException($"{labels.Count} labels for image embeddings of shape {GapGeometry.Shape(imageEmbeddings)}");
        var classes = classEmbeddings.shape[0];
        var labelled = Enumerable.Range(0, labels.Count).Where(i => labels[i] >= 0).ToArray();
        foreach (var i in labelled.Where(i => labels[i] >= classes))
            throw new ArgumentException($"label {labels[i]} of image {i} is not below the number of classes ({classes})");
        scored = labelled.Length;
        if (labelled.Length == 0) throw new ArgumentException("no labelled images to classify");

        using var scope = NewDisposeScope();
        var rows = tensor(labelled.Select(i => (long)i).ToArray(), device: imageEmbeddings.device);
        var x = nn.functional.normalize(imageEmbeddings.index_select(0, rows).to_type(ScalarType.Float32), p: 2, dim: 1);
        var predicted = x.matmul(classEmbeddings.to(x.device).t()).argmax(1);                        // [N']
        var truth = tensor(labelled.Select(i => (long)labels[i]).ToArray(), device: x.device);
        return predicted.eq(truth).sum().item<long>() / (double)labelled.Length;
    }

    /// <summary>Class embeddings from the templates, then top-1 accuracy.</summary>
    public static ZeroShotResult Evaluate(
        Tensor imageEmbeddings, IReadOnlyList<int> labels, IReadOnlyList<string> classNames,
        IReadOnlyList<string> templates, Func<IReadOnlyList<string>, Tensor> encodeText)
    {
        using var classEmbeddings = ClassEmbeddings(classNames, templates, encodeText);
        var top1 = Accuracy(imageEmbeddings, labels, classEmbeddings, out var scored);
        return new ZeroShotResult(top1, scored, classNames.Count, templates.Count);
    }
}
