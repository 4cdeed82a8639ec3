using System.Collections.Concurrent;

namespace TpcCma.Data;

/// <summary>
/// Preprocessed images kept in memory up to a byte budget. Entries are added until the budget is spent and then
/// never evicted: the samples served first stay cached, the rest are decoded every epoch, and memory stays at
/// most the budget however large the data set.
/// </summary>
internal sealed class MemoryCacheBudget<TKey>(long budgetBytes) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, float[]> entries = new();
    private long used;

    public long UsedBytes => Interlocked.Read(ref used);
    public int Count => entries.Count;

    public float[]? TryGet(TKey key) => entries.GetValueOrDefault(key);

    public void TryAdd(TKey key, float[] values)
    {
        var bytes = (long)values.Length * sizeof(float);
        // Reserve first, so concurrent workers never overshoot the budget together.
        if (Interlocked.Add(ref used, bytes) > budgetBytes || !entries.TryAdd(key, values)) Interlocked.Add(ref used, -bytes);
    }
}
