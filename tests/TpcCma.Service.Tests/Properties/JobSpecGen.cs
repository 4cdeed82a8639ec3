using System.Globalization;
using System.Text.Json;
using CsCheck;

namespace TpcCma.Service.Tests.Properties;

/// <summary>
/// One change to a job request: <see cref="Field"/> (as the API names it, e.g. <c>spec.lr</c>) set to the JSON text
/// <see cref="Json"/>. <see cref="Valid"/> says whether the service must accept it; <see cref="Parses"/> whether the
/// value has the right JSON type, so that it is caught by range validation (every such field is listed) rather than
/// by the parser (which stops at the first).
/// </summary>
public sealed record Mutation(string Field, string Json, bool Valid, bool Parses = true)
{
    public override string ToString() => $"{Field}={(Json.Length > 60 ? Json[..60] + "..." : Json)}";
}

/// <summary>Generators of valid and invalid values for every numeric, enum and text field of a job request.</summary>
public static class JobSpecGen
{
    private sealed record NumberRule(string Field, bool Integer, double Min, double Max, bool MinOpen = false, bool MaxOpen = false);

    // The rules of docs/METHOD.md as TrainingSpec.Validate enforces them; p1/p1_min/p2 are left out (joint rules).
    private static readonly NumberRule[] Rules =
    [
        new("spec.alpha_target", false, 0, 1, MaxOpen: true),
        new("spec.lambda_dist", false, 0, double.MaxValue),
        new("spec.lambda_cov", false, 0, double.MaxValue),
        new("spec.w_max", false, 0, double.MaxValue, MinOpen: true),
        new("spec.lambda_geom", false, 0, double.MaxValue),   // its joint rule needs cma = geometry, which is never generated
        new("spec.lambda_unif", false, 0, double.MaxValue),
        new("spec.negatives_beta", false, 0, double.MaxValue),
        new("spec.m2mix_weight", false, 0, double.MaxValue),
        new("spec.clip_refine_alpha", false, 0, 1),
        new("spec.clip_refine_rafa_weight", false, 0, double.MaxValue),
        new("spec.plateau_tol", false, 0, double.MaxValue, MinOpen: true),
        new("spec.ema", false, 0, 1, MaxOpen: true),
        new("spec.lr", false, 0, double.MaxValue, MinOpen: true),
        new("spec.warmup_fraction", false, 0, 1, MaxOpen: true),
        new("spec.weight_decay", false, 0, double.MaxValue),
        new("spec.grad_clip", false, 0, double.MaxValue, MinOpen: true),
        new("spec.beta1", false, 0, 1, MaxOpen: true),
        new("spec.beta2", false, 0, 1, MaxOpen: true),
        new("spec.eps", false, 0, double.MaxValue, MinOpen: true),
        new("spec.fixed_logit_scale", false, 1, 100),
        new("spec.steps", true, 1, int.MaxValue),
        new("spec.batch_size", true, 2, int.MaxValue),
        new("spec.plateau_window", true, 1, int.MaxValue),
        new("spec.last_k", true, 1, int.MaxValue),
        new("spec.checkpoint_every", true, 1, int.MaxValue),
        new("spec.log_every", true, 1, int.MaxValue),
        new("spec.seed", true, 0, long.MaxValue),
        new("spec.eval.train_sample", true, 0, int.MaxValue),
        new("spec.eval.captioning_steps", true, 1, int.MaxValue),
        new("spec.eval.captioning_seeds", true, 1, 10),
        new("spec.eval.max_pairs", true, 2, int.MaxValue),
    ];

    private static readonly (string Field, string[] Values)[] Enums =
    [
        ("spec.kind", ["align", "pretrain", "evaluate"]),
        ("spec.trainable", ["all", "projections", "last_k"]),
        ("spec.logit_scale", ["learned", "fixed"]),
        ("spec.negatives", ["uniform", "reweighted"]),
    ];

    private static readonly string[] WrongTypes = ["\"abc\"", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "true", "null", "[]", "{}", "\"\""];

    private static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static Gen<Mutation> ValidNumber(NumberRule r)
    {
        if (r.Integer)
        {
            var max = r.Max >= long.MaxValue ? long.MaxValue : (long)r.Max;
            return Gen.Frequency(
                (4, Gen.Long[(long)r.Min, Math.Min(max, 1_000_000)].Select(v => new Mutation(r.Field, v.ToString(CultureInfo.InvariantCulture), true))),
                (1, Gen.OneOf((long)r.Min, max).Select(v => new Mutation(r.Field, v.ToString(CultureInfo.InvariantCulture), true))));
        }
        var inside = Gen.Double[r.Min, Math.Min(r.Max, 1e6)]
            .Where(v => (r.MinOpen ? v > r.Min : v >= r.Min) && (r.MaxOpen ? v < r.Max : v <= r.Max))
            .Select(v => new Mutation(r.Field, Num(v), true));
        return r.MinOpen ? inside : Gen.Frequency((4, inside), (1, Gen.Const(new Mutation(r.Field, Num(r.Min), true))));
    }

    private static Gen<Mutation> InvalidNumber(NumberRule r)
    {
        var belowMin = r.Integer
            ? Gen.Long[-1_000_000, (long)r.Min - 1].Select(v => new Mutation(r.Field, v.ToString(CultureInfo.InvariantCulture), false))
            : Gen.Double[-1e12, r.Min].Where(v => r.MinOpen ? v <= r.Min : v < r.Min).Select(v => new Mutation(r.Field, Num(v), false));
        var wrongType = Gen.OneOf(WrongTypes).Select(t => new Mutation(r.Field, t, false, Parses: false));
        // Beyond every number type the field could hold: the parser refuses it, or it becomes infinity and validation does.
        var huge = (r.Integer ? Gen.OneOf("1e400", "123456789012345678901234567890") : Gen.OneOf("1e400", "-1e400")).Select(t => new Mutation(r.Field, t, false, Parses: false));
        var options = new List<(int, IGen<Mutation>)> { (3, belowMin), (2, wrongType), (1, huge) };
        if (r.Integer) options.Add((1, Gen.OneOf("1.5", "2.000001", "1e20").Select(t => new Mutation(r.Field, t, false, Parses: false))));
        else if (r.Max < double.MaxValue)
            options.Add((3, Gen.Double[r.Max, r.Max + 1e6].Where(v => r.MaxOpen ? v >= r.Max : v > r.Max).Select(v => new Mutation(r.Field, Num(v), false))));
        return Gen.Frequency(options.ToArray());
    }

    private static Gen<Mutation> EnumField((string Field, string[] Values) e) => Gen.Frequency(
        (2, Gen.OneOf(e.Values).Select(v => new Mutation(e.Field, $"\"{v}\"", true))),
        (1, Gen.OneOf("\"finetune\"", "1", "null", "\"\"", "[]").Select(v => new Mutation(e.Field, v, false, Parses: false))));

    /// <summary>Names: any unicode text up to the limit is accepted; longer, or with control characters, is refused.</summary>
    private static readonly Gen<Mutation> Name = Gen.Frequency(
        (3, Gen.OneOf("a", "Z", "0", " ", "-", "é", "中", "😀", "\u200b", "\"", "\\", "ß", "\t", "\u0000").Array[0, 80]
            .Select(parts => string.Concat(parts)).Where(s => s.Length <= 200)
            .Select(s => new Mutation("name", JsonSerializer.Serialize(s), !s.Any(char.IsControl)))),
        (1, Gen.Int[201, 20_000].Select(n => new Mutation("name", JsonSerializer.Serialize(new string('名', n)), false))),
        (1, Gen.OneOf("1", "true", "[]", "{}").Select(v => new Mutation("name", v, false, Parses: false))));

    private static readonly Gen<Mutation> Unknown = Gen.Frequency(
        (1, Gen.Char['a', 'z'].Array[3, 12].Select(c => new Mutation("spec.x_" + new string(c), "1", false, Parses: false))),
        (1, Gen.Char['a', 'z'].Array[3, 12].Select(c => new Mutation("x_" + new string(c), "1", false, Parses: false))));

    public static Gen<Mutation> AnyMutation { get; } = Gen.Frequency(
        [.. Rules.Select(r => (4, (IGen<Mutation>)Gen.Frequency((1, ValidNumber(r)), (1, InvalidNumber(r))))),
         .. Enums.Select(e => (2, (IGen<Mutation>)EnumField(e))),
         (4, Name), (2, Unknown)]);

    /// <summary>A request: up to three changes to distinct fields of a small valid job.</summary>
    public static Gen<Mutation[]> Request { get; } = AnyMutation.Array[0, 3]
        .Select(ms => ms.GroupBy(m => m.Field).Select(g => g.Last()).ToArray());
}
