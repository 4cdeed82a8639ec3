using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>
/// Mixed precision in the manner of PyTorch's autocast, which TorchSharp lacks: inside a scope, the matrix
/// products of the CLIP blocks run in the scope's dtype (bf16 on CUDA) while parameters stay float32 and layer
/// norms, softmax and the final features stay float32. Thread-local, like dispose scopes.
/// </summary>
public static class Autocast
{
    [ThreadStatic] private static ScalarType? current;

    /// <summary>The dtype matrix products use in this thread now, or null when autocast is off.</summary>
    public static ScalarType? Current => current;

    /// <summary>Turns autocast to <paramref name="dtype"/> on until the returned scope is disposed (null: leave it off).</summary>
    public static IDisposable Enter(ScalarType? dtype)
    {
        var previous = current;
        current = dtype;
        return new Restore(previous);
    }

    /// <summary><c>x Wᵀ + b</c>, in the autocast dtype when one is active.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        if (current is not { } dtype) return nn.functional.linear(x, weight, bias);
        return nn.functional.linear(x.to(dtype), weight.to(dtype), bias?.to(dtype));
    }

    /// <summary>Matrix product of two activations, in the autocast dtype when one is active.</summary>
    public static Tensor Matmul(Tensor a, Tensor b) =>
        current is { } dtype ? a.to(dtype).matmul(b.to(dtype)) : a.matmul(b);

    /// <summary>Layer norm computed in float32 (as autocast does), returned in the input's dtype.</summary>
    public static Tensor LayerNorm(Tensor x, TorchSharp.Modules.LayerNorm norm)
    {
        if (x.dtype == ScalarType.Float32 || x.dtype == ScalarType.Float64) return norm.call(x);
        using var y = norm.call(x.to(ScalarType.Float32));
        return y.to(x.dtype);
    }

    private sealed class Restore(ScalarType? previous) : IDisposable
    {
        public void Dispose() => current = previous;
    }
}
