using System.Text.RegularExpressions;

namespace TpcCma.Service.Jobs;

/// <summary>Hangfire queue names: lower-case letters, digits and underscores (its own rule), one per device kind.</summary>
public static partial class QueueNames
{
    public const string Rule = "a queue name is 1-50 lower-case letters, digits or underscores";

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9_]{1,50}$")]
    private static partial Regex Pattern();
}
