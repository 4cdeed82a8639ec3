namespace TpcCma.Data;

/// <summary>
/// SplitMix64: a tiny generator whose output is fixed by its seed on every platform and .NET version
/// (System.Random makes no such promise), used for data order, caption choice and augmentation.
/// </summary>
public sealed class DeterministicRandom(ulong seed)
{
    private ulong state = seed;

    /// <summary>A seed mixed from several integers (seed, epoch, sample index, purpose), well spread for nearby inputs.</summary>
    public static ulong Mix(params long[] parts)
    {
        var h = 0x9E3779B97F4A7C15UL;
        foreach (var p in parts) h = Finalise(h ^ Finalise((ulong)p + 0x632BE59BD9B4E019UL));
        return h;
    }

    public ulong NextUInt64()
    {
        state += 0x9E3779B97F4A7C15UL;
        return Finalise(state);
    }

    /// <summary>Uniform in [0, 1) with 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="exclusiveMax"/>), without modulo bias (Lemire's method).</summary>
    public int Next(int exclusiveMax)
    {
        if (exclusiveMax <= 0) throw new ArgumentOutOfRangeException(nameof(exclusiveMax), "must be positive");
        var bound = (ulong)exclusiveMax;
        var threshold = (0UL - bound) % bound;
        while (true)
        {
            var product = Math.BigMul(NextUInt64(), bound, out var low);
            if (low >= threshold) return (int)product;
        }
    }

    /// <summary>A Fisher-Yates permutation of 0..n-1.</summary>
    public int[] Permutation(int n)
    {
        var order = Enumerable.Range(0, n).ToArray();
        for (var i = n - 1; i > 0; i--)
        {
            var j = Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
