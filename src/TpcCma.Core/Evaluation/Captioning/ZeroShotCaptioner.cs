using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Evaluation.Captioning;

/// <summary>Budget and size of the caption decoder; the same for every model evaluated so scores compare.</summary>
/// <param name="Seed">Seeds the decoder's initial weights (torch's global generator) and the batch order.</param>
public sealed record CaptioningOptions(
    int Width = 128, int Layers = 2, int Heads = 4, int MaxWords = 20, int Steps = 300, int BatchSize = 64,
    double LearningRate = 2e-3, double WeightDecay = 0.01, int MinWordCount = 1, long Seed = 0, double MemoryTemperature = 0.01);

/// <summary>Zero-shot captioning scores (CIDEr-D, x10 scale as in the COCO code).</summary>
/// <param name="ImageToText">Decoder fed the normalised image embedding: the zero-shot score.</param>
/// <param name="TextToText">Decoder fed the caption's own text embedding: the ceiling.</param>
public sealed record CaptioningResult(
    double ImageToText, double TextToText, int TrainCaptions, int TestImages, int VocabularySize, int Steps,
    double FinalLoss, double TrainSeconds)
{
    /// <summary>DeCap-style: the same decoder fed the image embedding projected onto the training text embeddings (<see cref="MemoryProjection"/>).</summary>
    public double? ImageToTextProjected { get; init; }
}

/// <summary>
/// Zero-shot captioning of METHOD.md: a <see cref="CaptionDecoder"/> trained with teacher forcing on the
/// training captions' text embeddings only, then fed image embeddings and decoded greedily. Whatever
/// separates the image embeddings from the text embeddings it was trained on shows up as lost CIDEr-D.
/// </summary>
public sealed class ZeroShotCaptioner : IDisposable
{
    private const int GenerateBatch = 512;

    public CaptionDecoder Decoder { get; }
    public CaptionVocabulary Vocabulary { get; }
    public double FinalLoss { get; }

    private ZeroShotCaptioner(CaptionDecoder decoder, CaptionVocabulary vocabulary, double finalLoss) =>
        (Decoder, Vocabulary, FinalLoss) = (decoder, vocabulary, finalLoss);

    /// <param name="textEmbeddings">[N, E] text embeddings of the training captions (normalised here).</param>
    /// <param name="captions">The N raw training captions.</param>
    public static ZeroShotCaptioner Train(Tensor textEmbeddings, IReadOnlyList<string> captions, CaptioningOptions? options = null)
    {
        options ??= new CaptioningOptions();
        if (textEmbeddings.dim() != 2 || textEmbeddings.shape[0] != captions.Count)
            throw new ArgumentException($"{captions.Count} captions for text embeddings of shape {GapGeometry.Shape(textEmbeddings)}");
        if (captions.Count == 0) throw new ArgumentException("no training captions");
        if (options.Steps < 1 || options.BatchSize < 1) throw new ArgumentException("Steps and BatchSize must be at least 1");

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
        using var optimizer = optim.AdamW(decoder.parameters(), lr: options.LearningRate, weight_decay: options.WeightDecay);
        using var generator = new Generator((ulong)options.Seed);
        var order = Array.Empty<long>();
        var cursor = 0;
        var loss = double.NaN;
        decoder.train();
        for (var step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            if (cursor + options.BatchSize > order.Length)
            {
                // A fresh permutation per epoch; batches larger than the data take all of it.
                order = randperm(captions.Count, generator: generator).data<long>().ToArray();
                cursor = 0;
            }
            var take = Math.Min(options.BatchSize, order.Length);
            var batch = order.AsSpan(cursor, take).ToArray();
            cursor += take;
            // Only as many positions as the batch's longest caption (words + end) needs.
            var length = batch.Max(i => lengths[i]);
            var rows = tensor(batch, device: device);
            var batchTargets = targets.index_select(0, rows).narrow(1, 0, length);              // [B, L]
            var logits = decoder.call(embeddings.index_select(0, rows), batchTargets.narrow(1, 0, length - 1));
            var lossTensor = nn.functional.cross_entropy(
                logits.reshape(-1, vocabulary.Count), batchTargets.reshape(-1), ignore_index: CaptionVocabulary.Pad);
            optimizer.zero_grad();
            lossTensor.backward();
            optimizer.step();
            if (step == options.Steps - 1) loss = lossTensor.item<float>();
        }
        decoder.eval();
        return new ZeroShotCaptioner(decoder, vocabulary, loss);
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
    /// Trains a decoder on the training captions' text embeddings, then scores CIDEr-D of captions decoded from
    /// the test images' embeddings (zero-shot) and from the test captions' own text embeddings (ceiling).
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
        var clock = Stopwatch.StartNew();
        using var captioner = Train(trainText, trainCaptions, options);
        var trainSeconds = clock.Elapsed.TotalSeconds;

        static string Key(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var references = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        for (var i = 0; i < testReferences.Count; i++)
        {
            if (testReferences[i].Count == 0) throw new ArgumentException($"test image {i} has no reference captions");
            references[Key(i)] = testReferences[i].Select(CaptionTokenizer.Normalize).ToArray();
        }
        double Score(IReadOnlyList<string> generated) =>
            CiderD.Score(Enumerable.Range(0, generated.Count).ToDictionary(Key, i => generated[i], StringComparer.Ordinal), references).Score;

        using var projected = MemoryProjection.Project(testImage, trainText, options.MemoryTemperature);
        return new CaptioningResult(
            Score(captioner.Caption(testImage)), Score(captioner.Caption(testText)), trainCaptions.Count, testReferences.Count,
            captioner.Vocabulary.Count, options.Steps, captioner.FinalLoss, trainSeconds)
        { ImageToTextProjected = Score(captioner.Caption(projected)) };
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
