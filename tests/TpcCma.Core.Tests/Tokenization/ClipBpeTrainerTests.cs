using TpcCma.Tokenization;

namespace TpcCma.Core.Tests.Tokenization;

public class ClipBpeTrainerTests
{
    private static List<string> Corpus()
    {
        string[] colours = ["red", "green", "blue", "yellow", "purple", "orange"];
        string[] shapes = ["circle", "square", "triangle", "star", "ring", "stripes"];
        string[] places = ["on a white background", "next to a tree", "in the sky", "under water!", "at night, 3 am"];
        var rng = new Random(7);
        return Enumerable.Range(0, 300)
            .Select(_ => $"A photo of a {colours[rng.Next(colours.Length)]} {shapes[rng.Next(shapes.Length)]} {places[rng.Next(places.Length)]}")
            .Append("Ça coûte 5 € — naïve café")
            .ToList();
    }

    [Fact]
    public void Train_LearnsATokenizerThatRoundTripsItsCorpus_CaptionCorpus()
    {
        var corpus = Corpus();

        var tokenizer = ClipBpeTrainer.Train(corpus, vocabSize: 700);

        Assert.InRange(tokenizer.VocabSize, ClipBpeTrainer.BaseVocabSize + 1, 700);
        Assert.Equal(tokenizer.VocabSize - 1, tokenizer.EndOfTextId);
        Assert.Equal(tokenizer.VocabSize - 2, tokenizer.StartOfTextId);
        foreach (var text in corpus)
        {
            var expected = string.Concat(ClipTextCleaner.Split(ClipTextCleaner.Clean(text)).Select(w => w + " "));
            Assert.Equal(expected, tokenizer.Decode(tokenizer.Encode(text)));
        }
        Assert.Single(tokenizer.Encode("photo"));
        Assert.Single(tokenizer.Encode("triangle"));
        Assert.True(tokenizer.Encode(corpus[0]).Count < corpus[0].Length / 3, "frequent words should be merged into few tokens");
    }

    [Fact]
    public void SaveAndLoad_GiveTheSameIds_LearnedTokenizer()
    {
        var corpus = Corpus();
        var learned = ClipBpeTrainer.Train(corpus, vocabSize: 650);
        var dir = Directory.CreateTempSubdirectory("bpe").FullName;
        try
        {
            learned.Save(dir);
            var loaded = ClipTokenizer.Load(dir);

            Assert.Equal(learned.VocabSize, loaded.VocabSize);
            Assert.Equal(learned.Merges, loaded.Merges);
            foreach (var text in corpus.Append("an unseen sentence with zebras"))
                Assert.Equal(learned.Encode(text), loaded.Encode(text));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Train_IsDeterministic_SameCorpusTwice()
    {
        var corpus = Corpus();
        Assert.Equal(ClipBpeTrainer.Train(corpus, 600).Merges, ClipBpeTrainer.Train(corpus, 600).Merges);
    }

    [Fact]
    public void Train_Throws_VocabularySmallerThanBase()
    {
        var ex = Assert.Throws<ArgumentException>(() => ClipBpeTrainer.Train(["a"], 100));
        Assert.Contains("at least 514", ex.Message);
    }
}
