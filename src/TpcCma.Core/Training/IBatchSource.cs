using static TorchSharp.torch;

namespace TpcCma.Training;

/// <summary>One training batch: normalised pixels [B, 3, S, S] (float32) and token ids [B, L] (int64), pair i matched.</summary>
public sealed record TrainingBatch(Tensor Pixels, Tensor TokenIds);

/// <summary>
/// Where the trainer's batches come from. <see cref="Batch"/> must be a pure function of the source's seed and
/// <paramref name="position"/> (the number of batches drawn before), so a resumed run sees the same data.
/// Tensors it returns are created in the caller's dispose scope, on any device (the trainer moves them).
/// </summary>
public interface IBatchSource
{
    /// <summary>Pairs per batch.</summary>
    int BatchSize { get; }

    TrainingBatch Batch(long position);
}
