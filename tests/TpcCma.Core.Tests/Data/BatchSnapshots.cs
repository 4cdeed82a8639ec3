namespace TpcCma.Core.Tests.Data;

/// <summary>Compares loader batches by value, whichever loader (files or shards) produced them.</summary>
internal static class BatchSnapshots
{
    /// <summary>A batch's contents as plain values, so batches can be compared after their tensors are disposed.</summary>
    public static (string Ids, string Captions, string Labels, float[] Pixels) Snapshot(ImageTextBatch batch)
    {
        using (batch)
            return (string.Join(",", batch.Ids), string.Join("|", batch.Captions), string.Join(",", batch.Labels), batch.Pixels.data<float>().ToArray());
    }

    public static void AssertSame(IReadOnlyList<(string Ids, string Captions, string Labels, float[] Pixels)> expected,
        IReadOnlyList<(string Ids, string Captions, string Labels, float[] Pixels)> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal((expected[i].Ids, expected[i].Captions, expected[i].Labels), (actual[i].Ids, actual[i].Captions, actual[i].Labels));
            Assert.Equal(expected[i].Pixels, actual[i].Pixels);
        }
    }
}
