using TpcCma.Evaluation.Captioning;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Evaluation;

[Collection("Torch")]
public class ZeroShotCaptionerTests
{
    private static readonly string[] Colours = ["red", "blue", "green", "yellow", "black", "white"];
    private static readonly string[] Animals = ["cat", "dog", "horse", "bird", "cow", "sheep", "fox", "bear"];
    private static readonly string[] Places = ["grass", "beach", "road", "table", "bed"];

    /// <summary>
    /// Captions "A red cat on the grass." whose text embedding is the sum of its words' random vectors; the
    /// image embedding is the same sum plus a planted modality offset.
    /// </summary>
    private sealed record Synthetic(Tensor Text, Tensor Image, string[] Captions);

    private static Synthetic Make(int count, Tensor wordVectors, Tensor offset, Generator generator)
    {
        var captions = new string[count];
        var rows = new List<Tensor>();
        var picks = randint(1000, [count, 3], generator: generator).data<long>().ToArray();
        for (var i = 0; i < count; i++)
        {
            var (c, a, p) = ((int)(picks[3 * i] % Colours.Length), (int)(picks[3 * i + 1] % Animals.Length), (int)(picks[3 * i + 2] % Places.Length));
            captions[i] = $"A {Colours[c]} {Animals[a]} on the {Places[p]}.";
            rows.Add(wordVectors[c] + wordVectors[Colours.Length + a] + wordVectors[Colours.Length + Animals.Length + p]);
        }
        var concept = stack(rows);                                                        // [N, E]
        var text = concept + 0.05 * randn(concept.shape, generator: generator);
        var image = concept + 0.05 * randn(concept.shape, generator: generator) + offset;
        return new Synthetic(text, image, captions);
    }

    [Fact]
    public void Evaluate_ScoresTextToTextAboveImageToText_WithPlantedModalityOffset()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        const int dim = 32;
        var wordVectors = randn([Colours.Length + Animals.Length + Places.Length, dim], generator: generator) / Math.Sqrt(dim);
        var offset = 2.0 * nn.functional.normalize(randn([1, dim], generator: generator), p: 2, dim: 1);
        var train = Make(600, wordVectors, offset, generator);
        var test = Make(60, wordVectors, offset, generator);
        var references = test.Captions.Select(c => (IReadOnlyList<string>)[c]).ToArray();

        var result = ZeroShotCaptioner.Evaluate(train.Text, train.Captions, test.Image, test.Text, references,
            new CaptioningOptions(Width: 48, Layers: 1, Steps: 200, LearningRate: 4e-3, Seeds: 2));

        Assert.True(result.TextToText > 4.0, $"the decoder did not learn: text->text CIDEr-D {result.TextToText}, loss {result.FinalLoss}, {result.TrainSeconds:F1} s");
        Console.WriteLine($"captioning: text->text {result.TextToText:F3}, image->text {result.ImageToText:F3}, loss {result.FinalLoss:F3}, train {result.TrainSeconds:F2} s");
        Assert.True(result.TextToText > result.ImageToText + 2.0, $"text->text {result.TextToText} vs image->text {result.ImageToText}");
        // DeCap's projection lands on the text memory the decoder was trained from, so the planted offset costs it less.
        Assert.NotNull(result.ImageToTextProjected);
        Assert.True(result.ImageToTextProjected > result.ImageToText, $"projected {result.ImageToTextProjected} vs direct {result.ImageToText}");
        Assert.Equal(600, result.TrainCaptions);
        var runs = result.Runs!;
        Assert.Equal([0L, 1L], runs.Select(r => r.Seed));
        Assert.Equal(runs.Average(r => r.ImageToText), result.ImageToText, 1e-12);
        Assert.InRange(result.ImageToText, result.ImageToTextInterval!.Low, result.ImageToTextInterval.High);
        Assert.Equal(3 + Colours.Length + Animals.Length + Places.Length + 3, result.VocabularySize);   // 3 special ids + "a", "on", "the"
    }

    [Fact]
    public void Train_IsDeterministic_ForFixedSeed()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var wordVectors = randn([Colours.Length + Animals.Length + Places.Length, 16], generator: generator);
        var data = Make(64, wordVectors, zeros(1, 16), generator);
        var options = new CaptioningOptions(Width: 16, Layers: 1, Steps: 10);

        using var first = ZeroShotCaptioner.Train(data.Text, data.Captions, options);
        using var second = ZeroShotCaptioner.Train(data.Text, data.Captions, options);

        Assert.Equal(first.FinalLoss, second.FinalLoss);
        Assert.Equal(first.Caption(data.Text), second.Caption(data.Text));
    }

    [Fact]
    public void Train_StopsOnHeldOutLoss_AndKeepsTheBestWeights_WhenItCanOnlyMemorise()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(17);
        var wordVectors = randn([Colours.Length + Animals.Length + Places.Length, 16], generator: generator);
        var data = Make(80, wordVectors, zeros(1, 16), generator);
        // Embeddings unrelated to the captions: held-out loss can only get worse once the decoder memorises.
        var noise = randn([80, 16], generator: generator);
        var options = new CaptioningOptions(Width: 32, Layers: 1, Steps: 3000, LearningRate: 1e-2, CheckEvery: 10, Patience: 3, HoldOutFraction: 0.25);

        using var captioner = ZeroShotCaptioner.Train(noise, data.Captions, options);

        Assert.True(captioner.StepsTrained < options.Steps, $"trained the whole budget of {options.Steps} steps");
        Assert.Equal(captioner.StepsTrained - options.Patience * options.CheckEvery, captioner.BestStep);
        Assert.True(double.IsFinite(captioner.FinalLoss));
    }

    [Fact]
    public void Evaluate_ReportsEachSeed_AndAnIntervalAroundTheirMean()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(23);
        var wordVectors = randn([Colours.Length + Animals.Length + Places.Length, 16], generator: generator);
        var data = Make(100, wordVectors, zeros(1, 16), generator);
        var references = data.Captions.Take(20).Select(c => (IReadOnlyList<string>)[c]).ToArray();

        var result = ZeroShotCaptioner.Evaluate(data.Text, data.Captions, data.Image[..20], data.Text[..20], references,
            new CaptioningOptions(Width: 16, Layers: 1, Steps: 30, Seed: 4, Seeds: 3));

        var runs = result.Runs!;
        Assert.Equal([4L, 5L, 6L], runs.Select(r => r.Seed));
        var scores = runs.Select(r => r.TextToText).ToArray();
        Assert.True(scores.Distinct().Count() > 1, "different seeds gave identical decoders");
        var mean = scores.Average();
        var sd = Math.Sqrt(scores.Sum(v => (v - mean) * (v - mean)) / 2);
        Assert.Equal(mean, result.TextToText, 1e-12);
        Assert.Equal(mean - 4.303 * sd / Math.Sqrt(3), result.TextToTextInterval!.Low, 1e-9);
        Assert.Equal(mean + 4.303 * sd / Math.Sqrt(3), result.TextToTextInterval.High, 1e-9);
    }

    [Fact]
    public void Vocabulary_RoundTripsTokenisedCaption_AndMapsUnseenWordsToUnknown()
    {
        var vocabulary = CaptionVocabulary.Build(["A dog, on the grass!", "a cat on the bed"]);

        var ids = vocabulary.Encode("A dog on the moon", maxWords: 20);

        Assert.Equal(CaptionVocabulary.Unknown, ids[^2]);
        Assert.Equal(CaptionVocabulary.End, ids[^1]);
        Assert.Equal("a dog on the grass", vocabulary.Decode(vocabulary.Encode("a dog on the grass.", 20)));
        Assert.Equal("a dog", vocabulary.Decode(vocabulary.Encode("a dog on the grass", 2)));
    }
}
