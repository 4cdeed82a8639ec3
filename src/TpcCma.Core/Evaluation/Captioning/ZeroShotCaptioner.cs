using System.Diagnostics;
using TorchSharp;
using TpcCma.Statistics;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Evaluation.Captioning;

/// <summary>Budget and size of the caption decoder; the same for every model evaluated so scores compare.</summary>
/// <param name="Steps">The budget: at most this many optimiser steps per decoder.</param>
/// <param name="Seed">Seeds the first decoder's initial weights (torch's global generator) and batch order; decoder
/// i of <paramref name="Seeds"/> uses Seed + i.</param>
/// <param name="Seeds">Decoders trained per evaluation; CIDEr-D is reported as their mean and 95 % interval.</param>
/// <param name="HoldOutFraction">Share of the training captions held out to decide when to stop (the same captions
/// for every seed and model); 0, or fewer than <see cref="ZeroShotCaptioner.MinCaptionsForHoldOut"/> captions,
/// trains the whole budget on all of them.</param>
/// <param name="CheckEvery">Steps between held-out loss checks.</param>
/// <param name="Patience">Checks without a lower held-out loss after which training stops; the best weights are kept.</param>
public sealed record CaptioningOptions(
    int Width = 128, int Layers = 2, int Heads = 4, int MaxWords = 20, int Steps = 300, int BatchSize = 64,
    double LearningRate = 2e-3, double WeightDecay = 0.01, int MinWordCount = 1, long Seed = 0,
    int Seeds = 3, double HoldOutFraction = 0.1, int CheckEvery = 25, int Patience = 3, double MemoryTemperature = 0.01);

/// <summary>Zero-shot captioning scores (CIDEr-D, x10 scale as in the COCO code), the mean over the decoders' seeds.</summary>
/// <param name="ImageToText">Decoder fed the normalised image embedding: the zero-shot score.</param>
/// <param name="TextToText">Decoder fed the caption's own text embedding: the ceiling.</param>
/// <param name="Steps">The budget of steps each decoder had.</param>
/// <param name="FinalLoss">Mean over seeds of the kept weights' held-out caption loss (the last training loss when nothing was held out).</param>
/// <param name="ImageToTextInterval">Mean and 95 % Student-t interval over seeds (null in reports written before seeds were repeated).</param>
/// <param name="Runs">Each decoder's seed, scores and where it stopped.</param>
public sealed record CaptioningResult(
    double ImageToText, double TextToText, int TrainCaptions, int TestImages, int VocabularySize, int Steps,
    double FinalLoss, double TrainSeconds,
    Estimate? ImageToTextInterval = null, Estimate? TextToTextInterval = null, IReadOnlyList<CaptionDecoderRun>? Runs = null)
{
    /// <summary>DeCap-style: the same decoders fed the image embedding projected onto the training text embeddings
    /// (<see cref="MemoryProjection"/>), mean over seeds.</summary>
    public double? ImageToTextProjected { get; init; }
}

/// <summary>One decoder of a captioning evaluation.</summary>
/// <param name="StepsTrained">Steps taken before the stopping rule (or the budget) ended training.</param>
/// <param name="BestStep">The step whose weights were kept (lowest held-out loss).</param>
public sealed record CaptionDecoderRun(long Seed, double ImageToText, double TextToText, int StepsTrained, int BestStep, double Loss);

/// <summary>
/// Zero-shot captioning of METHOD.md: a <see cref="CaptionDecoder"/> trained with teacher forcing on the
/// training captions' text embeddings only, then fed image embeddings and decoded greedily. Whatever
/// separates the image embeddings from the text embeddings it was trained on shows up as lost CIDEr-D.
/// </summary>
public sealed class ZeroShotCaptioner : IDisposable
{
    private const int GenerateBatch = 512;
    /// <summary>Fewer training captions than this are all trained on: a hold-out of one or two says nothing.</summary>
    public const int MinCaptionsForHoldOut = 20;
    /// <summary>The hold-out is drawn with its own fixed generator, so every seed and every model stops on the same captions.</summary>
    private const ulong HoldOutSeed = 0x5EED;

    public CaptionDecoder Decoder { get; }
    public CaptionVocabulary Vocabulary { get; }
    /// <summary>Held-out caption loss of the kept weights, or the last training loss when nothing was held out.</summary>
    public double FinalLoss { get; }
    public int StepsTrained { get; }
    public int BestStep { get; }

    private ZeroShotCaptioner(CaptionDecoder decoder, CaptionVocabulary vocabulary, double finalLoss, int stepsTrained, int bestStep) =>
        (Decoder, Vocabulary, FinalLoss, StepsTrained, BestStep) = (decoder, vocabulary, finalLoss, stepsTrained, bestStep);

    /// <summary>
    /// Trains one decoder (seed <see cref="CaptioningOptions.Seed"/>) for at most the budget of steps, checking the
    /// held-out caption loss every <see cref="CaptioningOptions.CheckEvery"/> steps and stopping after
    /// <see cref="CaptioningOptions.Patience"/> checks without improvement; the best checked weights are kept.
    /// </summary>
    /// <param name="textEmbeddings">[N, E] text embeddings of the training captions (normalised here).</param>
    /// <param name="captions">The N raw training captions.</param>
    public static ZeroShotCaptioner Train(Tensor textEmbeddings, IReadOnlyList<string> captions, CaptioningOptions? options = null)
    {
        options ??= new CaptioningOptions();
        if (textEmbeddings.dim() != 2 || textEmbeddings.shape[0] != captions.Count)
            throw new ArgumentException($"{captions.Count} captions for text embeddings of shape {GapGeometry.Shape(textEmbeddings)}");
        if (captions.Count == 0) throw new ArgumentException("no training captions");
        if (options.Steps < 1 || options.BatchSize < 1) throw new ArgumentException("Steps and BatchSize must be at least 1");
        if (options.CheckEvery < 1 || options.Patience < 1) throw new ArgumentException("CheckEvery and Patience must be at least 1");
        if (options.HoldOutFraction is < 0 or >= 1) throw new ArgumentException($"HoldOutFraction must be in [0, 1), got {options.HoldOutFraction}");

        var device = textEmbeddings.device;
        var vocabulary = CaptionVocabulary.Build(captions, options.MinWordCount);
        manual_seed(options.Seed);
        var decoder = new CaptionDecoder(new CaptionDecoderConfig(
            (int)textEmbeddings.shape[1], vocabulary.Count, options.Width, options.Layers, options.Heads, options.MaxWords));
        decoder.to(device);

        using var embeddings = nn.functional.normalize(textEmbeddings.detach().to_type(ScalarType.Float32), p: 2, dim: 1).to(device);
        var (encoded, lengths) = EncodeAll(vocabulary, captions, options.MaxWords);
        using var targets = encoded.to(device);                                                 // [N, MaxWords + 1]
        encoded.Dispose();
        var (trainRows, heldOutRows) = HoldOut(captions.Count, options.HoldOutFraction);
        using var optimizer = new ScalarSafeAdamW(decoder.parameters(), options.LearningRate, options.WeightDecay);
        using var generator = new Generator((ulong)options.Seed);
        var order = Array.Empty<long>();
        var cursor = 0;
        var loss = double.NaN;
        var (bestLoss, bestStep, checksWithoutGain, stepsTrained) = (double.PositiveInfinity, 0, 0, 0);
        Dictionary<string, Tensor>? best = null;
        decoder.train();
        for (var step = 0; step < options.Steps; step++)
        {
            using (var scope = NewDisposeScope())
            {
                if (cursor + options.BatchSize > order.Length)
                {
                    // A fresh permutation of the training rows per epoch; batches larger than the data take all of it.
                    order = [.. randperm(trainRows.Length, generator: generator).data<long>().ToArray().Select(i => trainRows[i])];
                    cursor = 0;
                }
                var take = Math.Min(options.BatchSize, order.Length);
                var batch = order.AsSpan(cursor, take).ToArray();
                cursor += take;
                var lossTensor = BatchLoss(decoder, embeddings, targets, lengths, batch, vocabulary.Count);
                optimizer.zero_grad();
                lossTensor.backward();
                optimizer.step();
                if (step == options.Steps - 1) loss = lossTensor.item<float>();   // kept only when nothing is held out
            }
            stepsTrained = step + 1;
            if (heldOutRows.Length == 0 || (stepsTrained % options.CheckEvery != 0 && stepsTrained != options.Steps)) continue;
            var heldOutLoss = HeldOutLoss(decoder, embeddings, targets, lengths, heldOutRows, vocabulary.Count);
            if (heldOutLoss < bestLoss)
            {
                (bestLoss, bestStep, checksWithoutGain) = (heldOutLoss, stepsTrained, 0);
                DisposeAll(best);
                best = decoder.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
            }
            else if (++checksWithoutGain >= options.Patience) break;
        }
        if (best is not null)
        {
            decoder.load_state_dict(best);
            DisposeAll(best);
            loss = bestLoss;
        }
        else bestStep = stepsTrained;
        decoder.eval();
        return new ZeroShotCaptioner(decoder, vocabulary, loss, stepsTrained, bestStep);
    }

    /// <summary>Teacher-forced cross-entropy of the given rows, only over as many positions as their longest caption needs.</summary>
    private static Tensor BatchLoss(CaptionDecoder decoder, Tensor embeddings, Tensor targets, int[] lengths, long[] batch, int vocabularySize)
    {
        var length = batch.Max(i => lengths[i]);                                               // words + end
        var rows = tensor(batch, device: embeddings.device);
        var batchTargets = targets.index_select(0, rows).narrow(1, 0, length);                  // [B, L]
        var logits = decoder.call(embeddings.index_select(0, rows), batchTargets.narrow(1, 0, length - 1));
        return nn.functional.cross_entropy(logits.reshape(-1, vocabularySize), batchTargets.reshape(-1), ignore_index: CaptionVocabulary.Pad);
    }

    /// <summary>Mean per-word loss on the held-out captions, in eval mode without gradients.</summary>
    private static double HeldOutLoss(CaptionDecoder decoder, Tensor embeddings, Tensor targets, int[] lengths, long[] rows, int vocabularySize)
    {
        using var noGrad = no_grad();
        decoder.eval();
        double total = 0;
        long words = 0;
        foreach (var chunk in rows.Chunk(GenerateBatch))
        {
            using var scope = NewDisposeScope();
            var chunkWords = chunk.Sum(i => (long)lengths[i]);
            total += BatchLoss(decoder, embeddings, targets, lengths, chunk, vocabularySize).item<float>() * (double)chunkWords;
            words += chunkWords;
        }
        decoder.train();
        return total / words;
    }

    /// <summary>Training and held-out row indices: a fixed permutation's last share is held out.</summary>
    private static (long[] Train, long[] HeldOut) HoldOut(int count, double fraction)
    {
        var heldOut = count < MinCaptionsForHoldOut ? 0 : (int)Math.Round(fraction * count);
        if (heldOut == 0) return ([.. Enumerable.Range(0, count).Select(i => (long)i)], []);
        using var generator = new Generator(HoldOutSeed);
        using var permutation = randperm(count, generator: generator);
        var rows = permutation.data<long>().ToArray();
        return (rows[..^heldOut], rows[^heldOut..]);
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors.Values) t.Dispose();
    }

    /// <summary>Greedy captions (tokenised form: lowercase words joined by spaces) for [N, E] embeddings.</summary>
    public IReadOnlyList<string> Caption(Tensor embeddings)
    {
        var captions = new List<string>((int)embeddings.shape[0]);
        for (long start = 0; start < embeddings.shape[0]; start += GenerateBatch)
        {
            using var scope = NewDisposeScope();
            var rows = embeddings.narrow(0, start, Math.Min(GenerateBatch, embeddings.shape[0] - start));
            var input = nn.functional.normalize(rows.detach().to_type(ScalarType.Float32), p: 2, dim: 1).to(Decoder.parameters().First().device);
            var ids = Decoder.Generate(input).cpu();                                            // [b, T]
            for (var i = 0; i < ids.shape[0]; i++) captions.Add(Vocabulary.Decode(ids[i].data<long>().ToArray()));
        }
        return captions;
    }

    /// <summary>
    /// Trains <see cref="CaptioningOptions.Seeds"/> decoders (seeds Seed, Seed + 1, ...) on the training captions'
    /// text embeddings, then scores CIDEr-D of captions decoded from the test images' embeddings (zero-shot) and
    /// from the test captions' own text embeddings (ceiling): the mean over decoders and its 95 % interval.
    /// </summary>
    /// <param name="testImage">[M, E] test image embeddings.</param>
    /// <param name="testText">[M, E] text embedding of one caption per test image (the ceiling's input).</param>
    /// <param name="testReferences">Raw reference captions per test image.</param>
    public static CaptioningResult Evaluate(
        Tensor trainText, IReadOnlyList<string> trainCaptions, Tensor testImage, Tensor testText,
        IReadOnlyList<IReadOnlyList<string>> testReferences, CaptioningOptions? options = null)
    {
        options ??= new CaptioningOptions();
        GapGeometry.CheckPairs(testImage, testText, minimum: 1);
        if (testReferences.Count != testImage.shape[0])
            throw new ArgumentException($"{testReferences.Count} reference lists for {testImage.shape[0]} test images");
        if (options.Seeds < 1) throw new ArgumentException($"Seeds must be at least 1, got {options.Seeds}");

        static string Key(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var references = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        for (var i = 0; i < testReferences.Count; i++)
        {
            if (testReferences[i].Count == 0) throw new ArgumentException($"test image {i} has no reference captions");
            references[Key(i)] = testReferences[i].Select(CaptionTokenizer.Normalize).ToArray();
        }
        double Score(IReadOnlyList<string> generated) =>
            CiderD.Score(Enumerable.Range(0, generated.Count).ToDictionary(Key, i => generated[i], StringComparer.Ordinal), references).Score;

        var clock = Stopwatch.StartNew();
        var trainSeconds = 0.0;
        var runs = new List<CaptionDecoderRun>();
        var projectedScores = new List<double>();
        var vocabularySize = 0;
        using var projected = MemoryProjection.Project(testImage, trainText, options.MemoryTemperature);
        for (var i = 0; i < options.Seeds; i++)
        {
            var seed = options.Seed + i;
            clock.Restart();
            using var captioner = Train(trainText, trainCaptions, options with { Seed = seed });
            trainSeconds += clock.Elapsed.TotalSeconds;
            vocabularySize = captioner.Vocabulary.Count;
            runs.Add(new CaptionDecoderRun(seed, Score(captioner.Caption(testImage)), Score(captioner.Caption(testText)),
                captioner.StepsTrained, captioner.BestStep, captioner.FinalLoss));
            projectedScores.Add(Score(captioner.Caption(projected)));
        }
        var imageToText = MeanInterval.StudentT([.. runs.Select(r => r.ImageToText)]);
        var textToText = MeanInterval.StudentT([.. runs.Select(r => r.TextToText)]);
        return new CaptioningResult(imageToText.Value, textToText.Value, trainCaptions.Count, testReferences.Count,
            vocabularySize, options.Steps, runs.Average(r => r.Loss), trainSeconds, imageToText, textToText, runs)
        { ImageToTextProjected = projectedScores.Average() };
    }

    /// <summary>[N, maxWords + 1] word ids then the end id, padded; and each caption's encoded length.</summary>
    private static (Tensor Ids, int[] Lengths) EncodeAll(CaptionVocabulary vocabulary, IReadOnlyList<string> captions, int maxWords)
    {
        var width = maxWords + 1;
        var ids = new long[captions.Count * width];                                            // Pad = 0 fills the rest
        var lengths = new int[captions.Count];
        for (var i = 0; i < captions.Count; i++)
        {
            var encoded = vocabulary.Encode(captions[i], maxWords);
            Array.Copy(encoded, 0, ids, i * width, encoded.Length);
            lengths[i] = encoded.Length;
        }
        return (tensor(ids, [captions.Count, width]), lengths);
    }

    public void Dispose() => Decoder.Dispose();
}
