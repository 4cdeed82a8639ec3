using System.Globalization;
using System.Text.Json;

namespace TpcCma.Data.Sources;

/// <summary>One icon of a set: its SVG body and view box (Iconify's per-icon values or the set's defaults).</summary>
public sealed record IconGlyph(string Name, string Body, double Left, double Top, double Width, double Height)
{
    /// <summary>A standalone SVG document of <paramref name="size"/> pixels; <c>currentColor</c> resolves to black.</summary>
    public string SvgDocument(int size) => string.Create(CultureInfo.InvariantCulture,
        $"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{size}\" height=\"{size}\" " +
        $"viewBox=\"{Left} {Top} {Width} {Height}\" color=\"#000000\" style=\"color:#000000\">{Body}</svg>");
}

/// <summary>
/// An Iconify icon set (<c>json/PREFIX.json</c> of <c>@iconify/json</c>): <c>icons{name:{body, width?, height?, left?,
/// top?, hidden?}}</c> with set-wide defaults (16 when absent), <c>aliases{name:{parent, ...}}</c> and
/// <c>info{license{spdx, title}, author{name}}</c>.
/// </summary>
public sealed record IconSet(string Prefix, string Name, string? LicenceSpdx, string? LicenceTitle, string? Author,
    IReadOnlyList<IconGlyph> Icons, IReadOnlyDictionary<string, IReadOnlyList<string>> AliasesOf)
{
    /// <exception cref="InvalidDataException">Not an Iconify set; the message names the file.</exception>
    public static IconSet Parse(byte[] json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var prefix = root.GetProperty("prefix").GetString() ?? throw new InvalidDataException($"{source}: prefix is null");
            double Number(JsonElement e, string name, double fallback) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
            var (width, height) = (Number(root, "width", 16), Number(root, "height", 16));
            var (left, top) = (Number(root, "left", 0), Number(root, "top", 0));
            var icons = new List<IconGlyph>();
            foreach (var icon in root.GetProperty("icons").EnumerateObject())
            {
                // Hidden icons are kept by Iconify only so old names still resolve: not part of the set's drawing.
                if (icon.Value.TryGetProperty("hidden", out var hidden) && hidden.ValueKind == JsonValueKind.True) continue;
                // An empty body is kept: if the icon is chosen, the renderer names it as drawing nothing and it is skipped.
                var body = icon.Value.TryGetProperty("body", out var b) ? b.GetString() ?? "" : "";
                icons.Add(new IconGlyph(icon.Name, body, Number(icon.Value, "left", left), Number(icon.Value, "top", top),
                    Number(icon.Value, "width", width), Number(icon.Value, "height", height)));
            }
            // An alias that rotates or flips its parent draws something else (arrow-right from arrow-left): only plain
            // aliases are other names of the same drawing.
            var aliases = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            if (root.TryGetProperty("aliases", out var aliasObject))
                foreach (var alias in aliasObject.EnumerateObject())
                {
                    if (alias.Value.EnumerateObject().Any(p => p.Name != "parent")) continue;
                    var parent = alias.Value.GetProperty("parent").GetString()!;
                    if (!aliases.TryGetValue(parent, out var names)) aliases[parent] = names = [];
                    names.Add(alias.Name);
                }
            string? licence = null, licenceTitle = null, author = null, name = prefix;
            if (root.TryGetProperty("info", out var info))
            {
                if (info.TryGetProperty("name", out var n)) name = n.GetString() ?? prefix;
                if (info.TryGetProperty("license", out var l))
                {
                    if (l.TryGetProperty("spdx", out var spdx)) licence = spdx.GetString();
                    if (l.TryGetProperty("title", out var title)) licenceTitle = title.GetString();
                }
                if (info.TryGetProperty("author", out var a) && a.TryGetProperty("name", out var an)) author = an.GetString();
            }
            return new IconSet(prefix, name, licence, licenceTitle, author, icons,
                aliases.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)[.. p.Value.Order(StringComparer.Ordinal)], StringComparer.Ordinal));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source}: not an Iconify icon set ({ex.Message})", ex);
        }
    }

    /// <summary>Captions: the icon's words, then the words of each plain alias, without repeats.</summary>
    public IReadOnlyList<string> Captions(string iconName) =>
        [.. new[] { IconNames.Words(iconName) }.Concat(AliasesOf.TryGetValue(iconName, out var aliases) ? aliases.Select(IconNames.Words) : [])
            .Distinct(StringComparer.Ordinal)];
}

/// <summary>The licences an icon set may carry to be imported: permissive or attribution-only (SPDX ids).</summary>
public static class IconLicences
{
    public static IReadOnlySet<string> Allowed { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "MIT", "Apache-2.0", "ISC", "CC0-1.0", "CC-BY-3.0", "CC-BY-4.0", "OFL-1.1",
    };

    public static bool IsAllowed(string? spdx) => spdx is not null && Allowed.Contains(spdx);
}
