namespace TpcCma.Cli;

/// <summary>A command line after the command words: <c>--name value</c> options, <c>--flag</c>s and positionals.</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> options = new(StringComparer.Ordinal);
    private readonly HashSet<string> flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> read = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Positionals { get; }

    private CliArgs(List<string> positionals) => Positionals = positionals;

    /// <param name="flagNames">Options that take no value; every other <c>--name</c> takes the next word.</param>
    public static CliArgs Parse(IReadOnlyList<string> words, IReadOnlySet<string> flagNames)
    {
        var positionals = new List<string>();
        var parsed = new CliArgs(positionals);
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            if (!word.StartsWith("--", StringComparison.Ordinal) || word == "--")
            {
                positionals.Add(word);
                continue;
            }
            var name = word[2..];
            var eq = name.IndexOf('=');
            if (eq >= 0)
            {
                parsed.Add(name[..eq], name[(eq + 1)..]);
            }
            else if (flagNames.Contains(name))
            {
                parsed.flags.Add(name);
            }
            else
            {
                if (i + 1 >= words.Count) throw new CliUsageException($"option --{name} needs a value");
                parsed.Add(name, words[++i]);
            }
        }
        return parsed;
    }

    private void Add(string name, string value)
    {
        if (!options.TryGetValue(name, out var values)) options[name] = values = [];
        values.Add(value);
    }

    public bool Flag(string name) { read.Add(name); return flags.Contains(name); }

    public string? Optional(string name)
    {
        read.Add(name);
        return options.TryGetValue(name, out var values) ? values[^1] : null;
    }

    public IReadOnlyList<string> All(string name)
    {
        read.Add(name);
        return options.TryGetValue(name, out var values) ? values : [];
    }

    public string Required(string name) => Optional(name) ?? throw new CliUsageException($"missing required option --{name}");

    public int Int(string name, int fallback)
    {
        var text = Optional(name);
        if (text is null) return fallback;
        return int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new CliUsageException($"option --{name} must be an integer, got '{text}'");
    }

    public double Double(string name, double fallback)
    {
        var text = Optional(name);
        if (text is null) return fallback;
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new CliUsageException($"option --{name} must be a finite number, got '{text}'");
    }

    /// <summary>Options given on the command line that the command never asked for: typos, usually.</summary>
    public IEnumerable<string> Unread() => options.Keys.Concat(flags).Where(n => !read.Contains(n));
}

/// <summary>The command line is wrong: exit code 2 and the message.</summary>
public sealed class CliUsageException(string message) : Exception(message);
