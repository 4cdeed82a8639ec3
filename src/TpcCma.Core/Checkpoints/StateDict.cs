using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Checkpoints;

/// <summary>Strict state-dict loading: every key present, none extra, every shape equal, or one error naming them all.</summary>
public static class StateDict
{
    /// <summary>
    /// Copies <paramref name="weights"/> into <paramref name="module"/>'s parameters and buffers (cast to their dtype
    /// and device). Throws one <see cref="InvalidDataException"/> listing every missing, unexpected and mis-shaped key.
    /// </summary>
    public static void LoadStrict(nn.Module module, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var targets = module.state_dict();
        var missing = targets.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        var unexpected = weights.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        var misShaped = targets
            .Where(kv => weights.TryGetValue(kv.Key, out var w) && !w.shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} (file [{string.Join(", ", weights[kv.Key].shape)}], model [{string.Join(", ", kv.Value.shape)}])")
            .ToList();
        ThrowIfAny($"{source} does not fit the model", missing, unexpected, misShaped);
        using var _ = no_grad();
        foreach (var (name, target) in targets)
        {
            using var value = weights[name].to(target.dtype, target.device);
            target.copy_(value);
        }
    }

    /// <summary>One <see cref="InvalidDataException"/> naming every missing, unexpected and mis-shaped key, if there are any.</summary>
    public static void ThrowIfAny(string what, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misShaped)
    {
        if (missing.Count + unexpected.Count + misShaped.Count == 0) return;
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing keys: {string.Join(", ", missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected keys: {string.Join(", ", unexpected)}");
        if (misShaped.Count > 0) parts.Add($"mis-shaped keys: {string.Join("; ", misShaped)}");
        throw new InvalidDataException($"{what}: {string.Join(". ", parts)}");
    }
}
