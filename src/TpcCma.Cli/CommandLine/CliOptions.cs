using System.CommandLine;
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

    public static Option<int> Int(string name, string valueName, string description, int fallback, int? min = null)
    {
        var option = new Option<int>(name) { HelpName = valueName, Description = description, DefaultValueFactory = _ => fallback };
        if (min is { } low)
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() < low) result.AddError($"{name} must be at least {low}, got {result.GetValueOrDefault<int>()}");
            });
        return option;
    }

    /// <summary>A finite number, read with the invariant culture (a dot for decimals whatever the machine's locale).</summary>
    public static Option<double> Number(string name, string valueName, string description, double fallback, double? min = null)
    {
        var option = new Option<double>(name)
        {
            HelpName = valueName,
            Description = description,
            DefaultValueFactory = _ => fallback,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)) return value;
                result.AddError($"{name} must be a finite number, got '{text}'");
                return 0;
            },
        };
        if (min is { } low)
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<double>() < low)
                    result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be at least {low}, got {result.GetValueOrDefault<double>()}"));
            });
        return option;
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
