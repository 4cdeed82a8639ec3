namespace TpcCma.Data.Sources;

/// <summary>
/// What an icon's name says: its words (captions) and its concept (the class label). Icon sets name the same idea
/// <c>home</c>, <c>home-outline</c>, <c>home-2-rounded</c>: the concept drops the style words and numbers at the end.
/// </summary>
public static class IconNames
{
    /// <summary>Trailing words that name a drawing style, not what is drawn (the list, plus the spellings sets use for it).</summary>
    public static IReadOnlySet<string> StyleWords { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "outline", "outlined", "filled", "fill", "rounded", "round", "sharp", "solid", "bold", "duotone", "twotone",
        "light", "thin", "line", "alt", "regular", "stroke",
    };

    /// <summary><c>arrow-left-bold</c> -> <c>arrow left bold</c>: dashes, underscores and colons become single spaces.</summary>
    public static string Words(string name) =>
        string.Join(' ', Tokens(name));

    /// <summary>
    /// The name without trailing style words and numbers: <c>home-outline-rounded</c>, <c>home-2</c> and <c>home</c>
    /// are all <c>home</c>. Null when nothing is left (<c>24-filled</c>).
    /// </summary>
    public static string? Concept(string name)
    {
        var tokens = Tokens(name);
        var end = tokens.Count;
        while (end > 0 && (StyleWords.Contains(tokens[end - 1]) || tokens[end - 1].All(char.IsAsciiDigit))) end--;
        return end == 0 ? null : string.Join(' ', tokens.Take(end));
    }

    private static List<string> Tokens(string name) =>
        [.. name.ToLowerInvariant().Split(['-', '_', ':', ' '], StringSplitOptions.RemoveEmptyEntries)];
}
