using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace TpcCma.Cli.CommandLine;

/// <summary>
/// How <c>tpccma</c> and <c>tpccma-bench</c> declare options: <c>--kebab-name</c>, a placeholder for the value
/// (<c>--out DIR</c>), the default shown in the help, and errors that name the option. Shared by both tools
/// (the bench links this file), so their command lines follow one convention.
/// </summary>
internal static class CliOptions
{
    public static Option<string> Text(string name, string valueName, string description, bool required = false) =>
        new(name) { HelpName = valueName, Description = description, Required = required };

    public static Option<string> Text(string name, string valueName, string description, string fallback) =>
        new(name) { HelpName = valueName, Description = description, DefaultValueFactory = _ => fallback };

    /// <summary>An option that may be given several times (<c>--allow-host a --allow-host b</c>).</summary>
    public static Option<string[]> Many(string name, string valueName, string description) =>
        new(name) { HelpName = valueName, Description = description, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    public static Option<int> Int(string name, string valueName, string description, int fallback, int? min = null) => new(name)
    {
        HelpName = valueName,
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = result => Checked(result, name, int.TryParse(Token(result), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value),
            value, min, "an integer"),
    };

    /// <summary>A finite number, read with the invariant culture (a dot for decimals whatever the machine's locale).</summary>
    public static Option<double> Number(string name, string valueName, string description, double fallback, double? min = null) => new(name)
    {
        HelpName = valueName,
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = result => Checked(result, name,
            double.TryParse(Token(result), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value), value, min, "a finite number"),
    };

    private static string Token(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";

    /// <summary>The parsed value, or an error naming the option when it did not parse or is below <paramref name="min"/>.</summary>
    private static T Checked<T>(ArgumentResult result, string name, bool parsed, T value, T? min, string what) where T : struct, IComparable<T>
    {
        if (!parsed) result.AddError($"{name} must be {what}, got '{Token(result)}'");
        else if (min is { } low && value.CompareTo(low) < 0)
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be at least {low}, got {value}"));
        return value;
    }

    /// <summary>One of a fixed set of words; the first is the default unless <paramref name="required"/>.</summary>
    public static Option<string> Choice(string name, string description, string[] values, bool required = false)
    {
        var option = new Option<string>(name) { HelpName = string.Join('|', values), Description = description, Required = required };
        if (!required) option.DefaultValueFactory = _ => values[0];
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!values.Contains(value)) result.AddError($"{name} must be {Alternatives(values)}, got '{value}'");
        });
        option.CompletionSources.Add(values);
        return option;
    }

    private static string Alternatives(string[] values) =>
        values.Length == 1 ? values[0] : string.Join(", ", values[..^1]) + " or " + values[^1];
}
