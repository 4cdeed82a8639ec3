namespace TpcCma.Core.Tests.Checkpoints;

public sealed class ModelLoaderTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("loader").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static Tensor TextFeatures(LoadedModel loaded)
    {
        loaded.Model.eval();
        using var _ = no_grad();
        using var ids = loaded.RequireTokenizer().Tokenize(["a photo of a red circle."], loaded.Config.ContextLength);
        return loaded.Model.encode_text(ids);
    }

    [Fact]
    public void Load_GivesTheSameModel_HfFolderOpenClipFileAndHubReference()
    {
        using var scope = NewDisposeScope();
        using var server = new TinyHubServer();
        var hub = new HubOptions(server.BaseUrl, Path.Combine(temp, "cache"), ["127.0.0.1"]);

        using var fromFolder = ModelLoader.Load(TinyClip.HfDirectory);
        using var fromFile = ModelLoader.Load(TinyClip.OpenAiWeights, new ModelLoadOptions(TokenizerPath: TinyClip.BpeGz));
        using var fromHub = ModelLoader.Load("hf:tiny-org/tiny-clip", new ModelLoadOptions(Hub: hub));

        var expected = TextFeatures(fromFolder);
        Assert.True(TinyClip.MaxAbsDiff(TextFeatures(fromFile), expected) < 1e-5);
        Assert.Equal(0.0, TinyClip.MaxAbsDiff(TextFeatures(fromHub), expected));
        Assert.Equal(fromFolder.Config, fromHub.Config);
    }

    [Fact]
    public void Load_BuildsARandomModelWithTheTokenizersVocabulary_PresetAndLearnedTokenizer()
    {
        var tokenizer = ClipBpeTrainer.Train(["a red circle", "a blue square", "a red square"], 530);
        tokenizer.Save(temp);

        using var loaded = ModelLoader.Load("tiny", new ModelLoadOptions(TokenizerPath: temp));

        Assert.Equal(tokenizer.VocabSize, loaded.Config.VocabSize);
        Assert.Equal((float)Math.Log(1 / 0.07), loaded.Model.LogitScaleParameter.item<float>(), 5);
        using var features = TextFeatures(loaded);
        Assert.Equal([1, 32], features.shape);
    }

    [Fact]
    public void Load_HasNoTokenizer_OpenClipFileWithoutOne()
    {
        var copy = Path.Combine(temp, "weights.safetensors");
        File.Copy(TinyClip.OpenAiWeights, copy);

        using var loaded = ModelLoader.Load(copy);

        Assert.Null(loaded.Tokenizer);
        Assert.Contains("tokenizer", Assert.Throws<ArgumentException>(() => loaded.RequireTokenizer()).Message);
    }

    [Theory]
    [InlineData("no-such-model", "not an hf: reference")]
    [InlineData("hf:org/name", "no hub is configured")]
    public void Load_Throws_UnusableReference(string reference, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelLoader.Load(reference));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Load_Throws_TokenizerVocabularyDiffersFromModel()
    {
        ClipBpeTrainer.Train(["a b c"], 520).Save(temp);
        var ex = Assert.Throws<ArgumentException>(() => ModelLoader.Load(TinyClip.HfDirectory, new ModelLoadOptions(TokenizerPath: temp)));
        Assert.Contains("vocab_size 49408", ex.Message);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    public void DeviceOptions_Throws_MalformedDevice(string device)
    {
        var ex = Assert.Throws<ArgumentException>(() => DeviceOptions.Parse(device));
        Assert.Contains(device, ex.Message);
    }

    [Fact]
    public void DeviceOptions_NeverAutocasts_Cpu() => Assert.Null(DeviceOptions.Parse("cpu", bf16Autocast: true).AutocastType);
}
