using System.Text.RegularExpressions;

namespace TpcCma.Checkpoints;

/// <summary>A model on a Hugging Face-compatible hub: <c>hf:ORG/NAME[@REVISION]</c> (revision defaults to <c>main</c>).</summary>
public sealed partial record HubReference(string Organisation, string Name, string Revision)
{
    public const string Scheme = "hf:";

    public static bool IsHubReference(string reference) => reference.StartsWith(Scheme, StringComparison.Ordinal);

    public static HubReference Parse(string reference)
    {
        var match = Pattern().Match(reference);
        if (!match.Success)
            throw new ArgumentException($"'{reference}' is not a hub reference of the form hf:ORG/NAME[@REVISION] (letters, digits, '-', '_', '.')");
        var revision = match.Groups[3].Success ? match.Groups[3].Value : "main";
        return new HubReference(match.Groups[1].Value, match.Groups[2].Value, revision);
    }

    /// <summary>Folder name in the cache: one per repository and revision.</summary>
    public string CacheKey => $"{Organisation}--{Name}--{Revision}";

    public override string ToString() => $"{Scheme}{Organisation}/{Name}@{Revision}";

    // Names that cannot climb out of a folder or a URL path: no "..", no slashes in parts.
    [GeneratedRegex(@"^hf:([A-Za-z0-9][A-Za-z0-9_.\-]*)/([A-Za-z0-9][A-Za-z0-9_.\-]*)(?:@([A-Za-z0-9][A-Za-z0-9_.\-]*))?$")]
    private static partial Regex Pattern();
}
