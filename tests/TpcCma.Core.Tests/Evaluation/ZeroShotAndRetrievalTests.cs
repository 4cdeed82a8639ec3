using TpcCma.Evaluation;

namespace TpcCma.Core.Tests.Evaluation;

public class ZeroShotAndRetrievalTests
{
    [Fact]
    public void ClassEmbeddings_AverageNormalisedTemplateEmbeddingsAndRenormalise()
    {
        using var scope = NewDisposeScope();
        var prompts = new List<string>();
        // A text encoder whose output depends on the prompt's length and first letter, scaled so normalisation matters.
        Tensor Encode(IReadOnlyList<string> texts)
        {
            prompts.AddRange(texts);
            return tensor(texts.SelectMany(t => new float[] { t.Length, t[0], 3 * t.Length }).ToArray(), [texts.Count, 3]);
        }

        var classes = ZeroShotClassifier.ClassEmbeddings(["cat", "dog"], ZeroShotClassifier.DefaultTemplates, Encode);

        Assert.Equal(["a photo of a cat.", "a photo of a dog.", "cat", "dog"], prompts);
        var a = nn.functional.normalize(Encode(["a photo of a cat."]), p: 2, dim: 1);
        var b = nn.functional.normalize(Encode(["cat"]), p: 2, dim: 1);
        var expected = nn.functional.normalize(a + b, p: 2, dim: 1);
        Assert.True(classes[0].allclose(expected[0], rtol: 0, atol: 1e-6));
        Assert.Equal(1.0, classes.norm(1).min().item<float>(), 1e-6);
    }

    [Fact]
    public void Accuracy_CountsTopOneHits_AndSkipsUnlabelledImages()
    {
        using var scope = NewDisposeScope();
        var classes = eye(4);
        // Images 0-3 sit on their class, image 4 on class 2 but labelled 1, image 5 is unlabelled.
        var images = stack([classes[0], classes[1], classes[2], classes[3], classes[2] + 0.1f * classes[1], classes[0]]);

        var top1 = ZeroShotClassifier.Accuracy(images, [0, 1, 2, 3, 1, -1], classes, out var scored);

        Assert.Equal(5, scored);
        Assert.Equal(0.8, top1, 1e-12);
    }

    [Fact]
    public void ClassEmbeddings_Throws_ForTemplateWithoutPlaceholder()
    {
        var ex = Assert.Throws<ArgumentException>(() => ZeroShotClassifier.ClassEmbeddings(["cat"], ["a photo"], _ => zeros(1, 2)));
        Assert.Contains("'a photo'", ex.Message);
    }

    [Fact]
    public void Evaluate_GivesPerfectRecall_ForIdenticalEmbeddings()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var x = randn([300, 16], generator: generator);

        var r = Retrieval.Evaluate(x, x * 2);

        Assert.Equal(new RetrievalResult(1, 1, 1, 1, 300, 300), r);
    }

    [Fact]
    public void Evaluate_RanksTheMatchSecond_WhenEachCaptionPointsMostlyAtTheNextImage()
    {
        using var scope = NewDisposeScope();
        const int n = 10;
        var images = eye(n);
        // Caption i = e_i + 2 e_{i+1}: image i+1 outranks image i for caption i, and caption i-1 outranks caption i for image i.
        var captions = images + 2 * images.roll(1, 1);

        var r = Retrieval.Evaluate(images, captions);

        Assert.Equal(new RetrievalResult(0, 1, 0, 1, n, n), r);
    }

    [Fact]
    public void Evaluate_UsesBestOwnCaption_WhenImagesHaveSeveralCaptions()
    {
        using var scope = NewDisposeScope();
        var images = eye(3);
        // Image k owns captions 2k (exact) and 2k+1 (pointing at the next image).
        var captions = stack([images[0], images[1], images[1], images[2], images[2], images[0]]);

        var r = Retrieval.Evaluate(images, captions, [0, 0, 1, 1, 2, 2]);

        Assert.Equal(1.0, r.ImageToTextR1);
        Assert.Equal(0.5, r.TextToImageR1);
        Assert.Equal(1.0, r.TextToImageR5);
    }
}
