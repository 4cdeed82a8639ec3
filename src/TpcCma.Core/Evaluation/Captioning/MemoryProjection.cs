using static TorchSharp.torch;

namespace TpcCma.Evaluation.Captioning;

/// <summary>
/// DeCap's projection (Li et al., "DeCap: Decoding CLIP Latents for Zero-Shot Captioning via Text-Only
/// Training", ICLR 2023): an image embedding is replaced by a softmax-weighted sum of a memory of training text
/// embeddings before a text-trained decoder reads it, <c>v' = normalise( sum_i softmax_i(x . m_i / tau) m_i )</c>,
/// so the decoder sees a point of the text distribution it was trained on. DeCap uses tau = 0.01 (logits times 100).
/// </summary>
public static class MemoryProjection
{
    private const int ChunkRows = 512;

    /// <param name="queries">[M, E] embeddings to project (normalised here).</param>
    /// <param name="memory">[N, E] training text embeddings (normalised here).</param>
    /// <param name="temperature">tau &gt; 0: small values approach the nearest memory entry, large ones its mean.</param>
    /// <returns>[M, E] normalised projections, float32 on the queries' device.</returns>
    public static Tensor Project(Tensor queries, Tensor memory, double temperature)
    {
        if (!double.IsFinite(temperature) || temperature <= 0) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "must be > 0");
        if (queries.dim() != 2 || memory.dim() != 2 || queries.shape[1] != memory.shape[1] || memory.shape[0] == 0)
            throw new ArgumentException($"queries [M, E] and a non-empty memory [N, E] needed, got {GapGeometry.Shape(queries)} and {GapGeometry.Shape(memory)}");
        using var scope = NewDisposeScope();
        var m = nn.functional.normalize(memory.detach().to_type(ScalarType.Float32), p: 2, dim: 1).to(queries.device);   // [N, E]
        var parts = new List<Tensor>();
        for (long start = 0; start < queries.shape[0]; start += ChunkRows)
        {
            var q = nn.functional.normalize(queries.narrow(0, start, Math.Min(ChunkRows, queries.shape[0] - start)).detach().to_type(ScalarType.Float32), p: 2, dim: 1);
            var weights = (q.matmul(m.t()) / temperature).softmax(1);     // [b, N]
            parts.Add(nn.functional.normalize(weights.matmul(m), p: 2, dim: 1));   // [b, E]
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }
}
