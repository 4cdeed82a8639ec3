using System.Formats.Tar;
using System.Text.Json;
using TpcCma.Checkpoints;
using TpcCma.Data;
using TpcCma.Runs;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>Loads a downloaded checkpoint the way a user would and embeds the samples of the job's final-embedding fingerprint.</summary>
public static class FinalEmbeddings
{
    public static EmbeddingFingerprint Of(JsonObject job) =>
        job["result"]!["final_embeddings"].Deserialize<EmbeddingFingerprint>(new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;

    /// <summary>Largest difference between the fingerprint and the same samples embedded by the model at <paramref name="reference"/>.</summary>
    public static double MaxDifference(EmbeddingFingerprint fingerprint, string datasetFolder, string reference, string? tokenizer = null)
    {
        using var loaded = ModelLoader.Load(reference, new ModelLoadOptions(TokenizerPath: tokenizer));
        var data = RunData.Open(datasetFolder);
        var split = fingerprint.Split == data.HeldOutName ? data.HeldOut : data.OtherHeldOut.Single(o => o.Name == fingerprint.Split).Data;
        var samples = fingerprint.SampleIds.Select(id => split.Samples.Single(s => s.Id == id)).ToList();
        var embedder = new ModelEmbedder(loaded.Model, loaded.RequireTokenizer(), new ClipImageProcessor(ImageProcessorConfig.For(loaded.Config)));
        loaded.Model.eval();
        using var image = embedder.EmbedImages(split.WithSamples(samples));
        using var text = embedder.EmbedTexts(fingerprint.Captions);
        return fingerprint.MaxAbsDifference(EmbeddingFingerprint.Rows(image), EmbeddingFingerprint.Rows(text));
    }

    /// <summary>Unpacks a downloaded Hugging Face tar into a new folder and returns the model folder inside it.</summary>
    public static string ExtractHfTar(byte[] tar)
    {
        var folder = Directory.CreateTempSubdirectory("tpccma-hf-download-").FullName;
        TarFile.ExtractToDirectory(new MemoryStream(tar), folder, overwriteFiles: false);
        return Directory.GetFiles(folder, "config.json", SearchOption.AllDirectories).Select(Path.GetDirectoryName).Single()!;
    }
}
