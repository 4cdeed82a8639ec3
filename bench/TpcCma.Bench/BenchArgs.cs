using System.Globalization;

namespace TpcCma.Bench;

/// <summary><c>--name value</c> pairs of a suite's command line, with typed reads and errors that name the option.</summary>
internal sealed class BenchArgs
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    public BenchArgs(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i += 2)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"expected --option, got '{list[i]}'");
            if (i + 1 >= list.Count) throw new ArgumentException($"option {list[i]} needs a value");
            values[list[i][2..]] = list[i + 1];
        }
    }

    public string? String(string name) => values.GetValueOrDefault(name);

    public string String(string name, string fallback) => values.GetValueOrDefault(name) ?? fallback;

    public int Int(string name, int fallback) =>
        !values.TryGetValue(name, out var text) ? fallback
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new ArgumentException($"--{name} must be an integer, got '{text}'");

    public double Double(string name, double fallback) =>
        !values.TryGetValue(name, out var text) ? fallback
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value
        : throw new ArgumentException($"--{name} must be a number, got '{text}'");
}
