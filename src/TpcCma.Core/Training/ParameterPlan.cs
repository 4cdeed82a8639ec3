using System.Text.RegularExpressions;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TpcCma.Training;

/// <summary>
/// Which parameters train and which of those get weight decay, decided from state_dict names in the
/// OpenAI/open_clip layout (<c>visual.transformer.resblocks.3.attn.in_proj_weight</c>, <c>text_projection</c>, ...).
/// </summary>
/// <param name="Decay">Trainable, with weight decay (matrices and kernels).</param>
/// <param name="NoDecay">Trainable, without weight decay (gains, biases, embeddings, logit scale).</param>
/// <param name="Frozen">Names of parameters left as they are.</param>
public sealed partial record ParameterPlan(
    IReadOnlyList<(string Name, Parameter Parameter)> Decay,
    IReadOnlyList<(string Name, Parameter Parameter)> NoDecay,
    IReadOnlyList<string> Frozen)
{
    public const string LogitScaleName = "logit_scale";
    private static readonly string[] Projections = ["visual.proj", "text_projection"];
    // What follows the last block of each tower; trained with the last k blocks.
    private static readonly string[] TowerHeads = ["visual.ln_post.", "visual.proj", "ln_final.", "text_projection"];

    public IEnumerable<(string Name, Parameter Parameter)> Trainable => Decay.Concat(NoDecay);

    /// <summary>Sorts <paramref name="named"/> by the spec's trainable set and logit-scale mode.</summary>
    /// <exception cref="ArgumentException">A selected set is empty, or a name the rule needs is missing.</exception>
    public static ParameterPlan Create(IEnumerable<(string name, Parameter parameter)> named, TrainableSet set, int lastK, LogitScaleMode logitScale)
    {
        var all = named.ToList();
        var blockCounts = all.Select(p => BlockPattern().Match(p.name)).Where(m => m.Success)
            .GroupBy(m => m.Groups["tower"].Value)
            .ToDictionary(g => g.Key, g => g.Max(m => int.Parse(m.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture)) + 1);
        bool Trains(string name)
        {
            if (name == LogitScaleName) return logitScale == LogitScaleMode.Learned;
            return set switch
            {
                TrainableSet.All => true,
                TrainableSet.Projections => Projections.Contains(name),
                TrainableSet.LastK => TowerHeads.Any(h => name == h || (h.EndsWith('.') && name.StartsWith(h, StringComparison.Ordinal)))
                    || (BlockPattern().Match(name) is { Success: true } m
                        && int.Parse(m.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture) >= blockCounts[m.Groups["tower"].Value] - lastK),
                _ => throw new ArgumentOutOfRangeException(nameof(set), set, "unknown trainable set"),
            };
        }

        var trainable = all.Where(p => Trains(p.name)).ToList();
        if (set == TrainableSet.Projections && Projections.Any(n => all.All(p => p.name != n)))
            throw new ArgumentException($"trainable = projections needs parameters named {string.Join(" and ", Projections)}");
        if (trainable.Count == 0) throw new ArgumentException($"trainable = {set} selects no parameter");
        return new ParameterPlan(
            trainable.Where(p => DecaysWeight(p.name, p.parameter.dim())).ToList(),
            trainable.Where(p => !DecaysWeight(p.name, p.parameter.dim())).ToList(),
            all.Where(p => !Trains(p.name)).Select(p => p.name).ToList());
    }

    /// <summary>CLIP's rule: decay matrices and kernels, not gains, biases, embeddings or the logit scale.</summary>
    public static bool DecaysWeight(string name, long rank) =>
        rank >= 2 && !name.Contains("embedding", StringComparison.Ordinal) && name != LogitScaleName;

    /// <summary>AdamW over the trainable parameters: one group with the spec's weight decay, one without (<see cref="ScalarSafeAdamW"/> says why not TorchSharp's own).</summary>
    public AdamW CreateOptimizer(TrainingSpec spec)
    {
        var groups = new List<AdamW.ParamGroup>();
        if (Decay.Count > 0) groups.Add(new AdamW.ParamGroup(Decay.Select(p => p.Parameter), spec.Lr, spec.Beta1, spec.Beta2, spec.Eps, spec.WeightDecay));
        if (NoDecay.Count > 0) groups.Add(new AdamW.ParamGroup(NoDecay.Select(p => p.Parameter), spec.Lr, spec.Beta1, spec.Beta2, spec.Eps, 0.0));
        return new ScalarSafeAdamW(groups, spec.Lr, spec.Beta1, spec.Beta2, spec.Eps, spec.WeightDecay);
    }

    [GeneratedRegex(@"^(?<tower>visual\.|)transformer\.resblocks\.(?<index>\d+)\.")]
    private static partial Regex BlockPattern();
}
