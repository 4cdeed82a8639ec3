namespace TpcCma.Core.Tests.Checkpoints;

public class SafetensorsTests
{
    [Fact]
    public void WriteThenRead_KeepsDtypesShapesValuesAndMetadata_MixedTensors()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = randn(3, 4),
            ["f16"] = randn(5).to(ScalarType.Float16),
            ["bf16"] = randn(2, 3).to(ScalarType.BFloat16),
            ["i64"] = arange(7, dtype: ScalarType.Int64).reshape(1, 7),
            ["scalar"] = tensor(2.5f),
            ["empty"] = zeros(0, 3),
        };
        try
        {
            Safetensors.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "x\"y" });
            using var file = Safetensors.Read(path);

            Assert.Equal(tensors.Keys, file.Tensors.Keys);
            foreach (var (name, expected) in tensors)
            {
                Assert.Equal(expected.dtype, file[name].dtype);
                Assert.Equal(expected.shape, file[name].shape);
                Assert.True(expected.bytes.SequenceEqual(file[name].bytes), $"{name}: bytes differ");
            }
            Assert.Equal("x\"y", file.Metadata["note"]);
            Assert.Equal(0, (new FileInfo(path).Length - file.Tensors.Values.Sum(t => t.NumberOfElements * t.ElementSize) - 8) % 8);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_GivesTheReferenceFileContents_TinyOpenAiWeights()
    {
        using var file = Safetensors.Read(Model.TinyClip.OpenAiWeights);
        Assert.Equal(62, file.Tensors.Count);
        Assert.Equal(Array.Empty<long>(), file["logit_scale"].shape);
        Assert.Equal(2.67023, file["logit_scale"].item<float>(), 5);
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Fact]
    public void Read_Throws_TruncatedFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            var bytes = File.ReadAllBytes(Model.TinyClip.Images);
            File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
            var ex = Assert.Throws<InvalidDataException>(() => Safetensors.Read(path));
            Assert.Contains("data_offsets", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
