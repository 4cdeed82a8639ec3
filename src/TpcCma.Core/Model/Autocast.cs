using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>
/// Mixed precision in the manner of PyTorch's autocast, which TorchSharp lacks: inside a scope, the matrix
/// products of the CLIP blocks run in the scope's dtype (bf16) while parameters stay float32 and layer
/// norms, softmax and the final features stay float32. Thread-local, like dispose scopes.
/// </summary>
/// <remarks>
/// A scope casts each parameter once and reuses the copy (as PyTorch's autocast weight cache does), so enter
/// one scope per training step or per embedding pass: the copies are taken when first used and are not
/// refreshed, so a scope must not span an optimiser update. The copies belong to the scope, not to any
/// dispose scope, and are released when it closes.
/// </remarks>
public static class Autocast
{
    [ThreadStatic] private static CastScope? current;

    /// <summary>The dtype matrix products use in this thread now, or null when autocast is off.</summary>
    public static ScalarType? Current => current?.DType;

    /// <summary>Turns autocast to <paramref name="dtype"/> on until the returned scope is disposed (null: turn it off inside).</summary>
    public static IDisposable Enter(ScalarType? dtype)
    {
        var scope = new CastScope(dtype, current);
        current = scope;
        return scope;
    }

    /// <summary>How many parameter copies the current scope holds (0 when off): what the weight cache saves is testable.</summary>
    public static int CachedCasts => current?.Count ?? 0;

    /// <summary><c>x Wᵀ + b</c>, in the autocast dtype when one is active.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        if (current is not { DType: { } dtype } scope) return nn.functional.linear(x, weight, bias);
        return nn.functional.linear(x.to(dtype), scope.Cast(weight), bias is null ? null : scope.Cast(bias));
    }

    /// <summary>Matrix product (of activations, or of an activation and a parameter), in the autocast dtype when one is active.</summary>
    public static Tensor Matmul(Tensor a, Tensor b) =>
        current is { DType: not null } scope ? scope.Cast(a).matmul(scope.Cast(b)) : a.matmul(b);

    /// <summary>A tensor in the autocast dtype (a cached copy when it is a parameter), or itself when autocast is off.</summary>
    public static Tensor Cast(Tensor t) => current is { DType: not null } scope ? scope.Cast(t) : t;

    /// <summary>Layer norm computed in float32 (as autocast does), returned in the input's dtype.</summary>
    public static Tensor LayerNorm(Tensor x, TorchSharp.Modules.LayerNorm norm)
    {
        if (x.dtype == ScalarType.Float32 || x.dtype == ScalarType.Float64) return norm.call(x);
        using var y = norm.call(x.to(ScalarType.Float32));
        return y.to(x.dtype);
    }

    private sealed class CastScope(ScalarType? dtype, CastScope? outer) : IDisposable
    {
        // Keyed by the parameter's native handle; a copy made without grad cannot stand in for one with grad.
        private readonly Dictionary<(IntPtr Handle, bool Grad), Tensor> casts = [];
        private bool disposed;

        public ScalarType? DType { get; } = dtype;
        public int Count => casts.Count;

        public Tensor Cast(Tensor t)
        {
            var dtype = DType!.Value;
            if (t.dtype == dtype) return t;
            if (t is not TorchSharp.Modules.Parameter) return t.to(dtype);
            var key = (t.Handle, is_grad_enabled());
            if (casts.TryGetValue(key, out var cached)) return cached;
            // Outside every dispose scope: a block's own scope must not free a copy later blocks and steps reuse.
            var copy = t.to(dtype).DetachFromDisposeScope();
            casts[key] = copy;
            return copy;
        }

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            foreach (var copy in casts.Values) copy.Dispose();
            casts.Clear();
            current = outer;
        }
    }
}
