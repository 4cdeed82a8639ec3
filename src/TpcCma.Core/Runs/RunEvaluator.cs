using System.Security.Cryptography;
using System.Text;
using TpcCma.Data;
using TpcCma.Evaluation;
using TpcCma.Evaluation.Captioning;
using TpcCma.Model;
using TpcCma.Tokenization;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Runs;

/// <summary>
/// Evaluates a model on a run's data as METHOD.md prescribes: the held-out split and a sample of the training
/// split, in eval mode and the job's precision, with the caption decoder trained on the training captions' text embeddings.
/// Leaves the model's mode and the global RNG as it found them, so a run that evaluates resumes bit for bit.
/// </summary>
/// <param name="autocast">The job's precision for the embeddings (null: float32); metrics are computed in float32 either way.</param>
public sealed class RunEvaluator(ClipModel model, ClipTokenizer tokenizer, ClipImageProcessor processor, RunData data, EvalSpec spec, long seed,
    ScalarType? autocast = null)
{
    private const int MaxCaptioningCaptions = 8000;
    private ModelEmbedder Embedder => new(model, tokenizer, processor, autocast);

    /// <param name="centered">Evaluate the embeddings after per-modality mean-centering: the post-hoc baseline every
    /// report shows beside the base model. Its gaps are measured before renormalising, its task metrics (and
    /// <see cref="EvaluationReport.RenormalisedGaps"/>) on the renormalised vectors.</param>
    /// <param name="noise">With <paramref name="centered"/>: C3's baseline instead (<see cref="CollapseCorrupt"/>), centred,
    /// corrupted with noise of this scale and renormalised; its gaps are those of the vectors it ends with.</param>
    public IReadOnlyList<EvaluationReport> Evaluate(string modelLabel, bool captioning, bool centered = false, double? noise = null)
    {
        var wasTraining = model.training;
        using var rng = random.get_rng_state();
        model.eval();
        try
        {
            var reports = new List<EvaluationReport>();
            var corrupt = centered ? noise : null;
            var captionTraining = captioning && spec.Captioning ? CaptioningSet(centered, corrupt) : null;
            reports.Add(EvaluateSplit(modelLabel, data.HeldOutName, Subset(data.HeldOut.Samples, spec.MaxPairs), data.HeldOut, captionTraining, centered, corrupt));
            foreach (var (name, other) in data.OtherHeldOut)
                reports.Add(EvaluateSplit(modelLabel, name, Subset(other.Samples, spec.MaxPairs), other, null, centered, corrupt));
            if (spec.TrainSample > 0 && data.HeldOutName != "train")
                reports.Add(EvaluateSplit(modelLabel, "train", Subset(data.Train.Samples, spec.TrainSample), data.Train, null, centered, corrupt));
            captionTraining?.Text.Dispose();
            return reports;
        }
        finally
        {
            random.set_rng_state(rng);
            model.train(wasTraining);
        }
    }

    private EvaluationReport EvaluateSplit(string modelLabel, string split, IReadOnlyList<DatasetSample> samples, ImageTextDataset dataset,
        CaptioningTrainingSet? captions, bool centered, double? noise)
    {
        using var scope = NewDisposeScope();
        var image = EmbedImages(dataset.WithSamples(samples));
        var text = EmbedTexts([.. samples.Select(s => s.Captions[0])]);
        Func<IReadOnlyList<string>, Tensor> encode = EmbedTexts;
        Tensor? gapImage = null, gapText = null;
        if (centered)
        {
            // Prompts are text: they move with the text mean of this split, as a post-processing step would move them.
            var textMean = text.mean([0], keepdim: true);
            // Gaps before renormalising (METHOD.md's identity); task metrics on the renormalised vectors a model would use.
            if (noise is { } sigma)
                (image, text) = CollapseCorrupt.Apply(image, text, sigma);   // gaps: of these vectors (gapImage stays null)
            else
            {
                (gapImage, gapText) = GapGeometry.Centered(image, text);
                (image, text) = GapGeometry.MeanCentered(image, text);
            }
            // Prompts are centred, not corrupted: C3 corrupts what a decoder trains on, not what it is asked.
            encode = prompts => Normalise(EmbedTexts(prompts) - textMean);
        }
        var labels = samples.Select(dataset.LabelIndex).ToList();
        var hasLabels = dataset.ClassNames.Count > 1 && labels.Any(l => l >= 0);
        var input = new EvaluationSplit(modelLabel, split, image, text,
            hasLabels ? labels : null, hasLabels ? dataset.ClassNames : null, hasLabels ? encode : null, Templates(dataset),
            captions is null ? null : samples.Select(s => s.Captions).ToList(), captions, gapImage, gapText);
        var options = new EvaluationOptions(Captioning: new CaptioningOptions(Steps: spec.CaptioningSteps, Seed: seed, Seeds: spec.CaptioningSeeds));
        return ModelEvaluator.Evaluate(input, options);
    }

    /// <summary>The dataset's own templates unless the spec sets others.</summary>
    private IReadOnlyList<string> Templates(ImageTextDataset dataset) =>
        spec.PromptTemplates.SequenceEqual(new EvalSpec().PromptTemplates) ? dataset.PromptTemplates : spec.PromptTemplates;

    /// <summary>The decoder's training data: every training caption (up to a cap) and its normalised text embedding.</summary>
    private CaptioningTrainingSet CaptioningSet(bool centered, double? noise)
    {
        var captions = Subset(data.Train.Samples, MaxCaptioningCaptions).SelectMany(s => s.Captions).Take(MaxCaptioningCaptions).ToList();
        using var scope = NewDisposeScope();
        var text = EmbedTexts(captions);
        if (centered) text = Normalise(text - text.mean([0], keepdim: true));
        // C3's corrupt step: the decoder learns from noisy text embeddings (centred, noised, renormalised).
        if (centered && noise is { } sigma)
            text = Normalise(CollapseCorrupt.Corrupt(text, sigma, new Generator((ulong)CollapseCorrupt.NoiseSeed, text.device)));
        return new CaptioningTrainingSet(text.DetachFromDisposeScope(), captions);
    }

    private Tensor EmbedImages(ImageTextDataset dataset) => Embedder.EmbedImages(dataset);

    private Tensor EmbedTexts(IReadOnlyList<string> texts) => Embedder.EmbedTexts(texts);

    private static Tensor Normalise(Tensor features) => ModelEmbedder.Normalise(features);

    /// <summary>A deterministic subset: the samples with the smallest hash of their id, in their original order.</summary>
    public static IReadOnlyList<DatasetSample> Subset(IReadOnlyList<DatasetSample> samples, int count)
    {
        if (samples.Count <= count) return samples;
        var keep = samples.Select((s, i) => (i, h: BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(s.Id)))))
            .OrderBy(x => x.h).Take(count).Select(x => x.i).ToHashSet();
        return [.. samples.Where((_, i) => keep.Contains(i))];
    }
}
