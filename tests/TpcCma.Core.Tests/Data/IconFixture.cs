using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using TpcCma.Data.Sources;

namespace TpcCma.Core.Tests.Data;

/// <summary>A small <c>@iconify/json</c> archive written into a cache folder, laid out as the real package: <c>package/json/PREFIX.json</c>.</summary>
internal static class IconFixture
{
    public const string Square = "<path fill=\"currentColor\" d=\"M4 4h8v8H4z\"/>";
    public const string RedSquare = "<path fill=\"#ff0000\" d=\"M4 4h8v8H4z\"/>";
    public const string Stroke = "<path fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" d=\"M2 8h12\"/>";

    /// <summary>Four MIT/Apache/CC-BY sets that share the concepts home and heart, a GPL set and a set with no licence.</summary>
    public static string WritePackage(string cache, bool withBadSvg = false)
    {
        (string Prefix, object Json) Set(string prefix, string? spdx, object icons, object? aliases = null, int? height = null) => (prefix, new
        {
            prefix,
            info = spdx is null ? (object)new { name = prefix.ToUpperInvariant(), author = new { name = "A. Uthor" } }
                : new { name = prefix.ToUpperInvariant(), license = new { title = spdx, spdx }, author = new { name = $"{prefix} author" } },
            icons,
            aliases = aliases ?? new { },
            height,
        });
        var sets = new[]
        {
            Set("alpha", "MIT", new Dictionary<string, object>
            {
                ["home"] = new { body = Square }, ["home-outline"] = new { body = Stroke }, ["heart"] = new { body = RedSquare },
                ["arrow-left-bold"] = new { body = Stroke }, ["cat"] = new { body = withBadSvg ? "<path d=\"M0 0\"<<broken" : Square },
            }, new Dictionary<string, object> { ["house"] = new { parent = "home" }, ["arrow-right-bold"] = new { parent = "arrow-left-bold", hFlip = true } }),
            Set("beta-icons", "Apache-2.0", new Dictionary<string, object>
            {
                ["home-filled"] = new { body = Square }, ["heart-2"] = new { body = Stroke }, ["heart-3"] = new { body = Square, width = 20 },
                ["arrow-left"] = new { body = Stroke }, ["cat-sharp"] = new { body = Square },
            }, height: 24),
            Set("gamma", "CC-BY-4.0", new Dictionary<string, object> { ["home-rounded"] = new { body = Square }, ["heart"] = new { body = Stroke }, ["cat"] = new { body = RedSquare } }),
            Set("delta", "ISC", new Dictionary<string, object> { ["home"] = new { body = Stroke }, ["heart-fill"] = new { body = Square }, ["arrow-left"] = new { body = Square } }),
            Set("copyleft", "GPL-3.0", new Dictionary<string, object> { ["home"] = new { body = Square }, ["heart"] = new { body = Square } }),
            Set("unlicensed", null, new Dictionary<string, object> { ["home"] = new { body = Square }, ["heart"] = new { body = Square } }),
        };
        Directory.CreateDirectory(cache);
        var archive = Path.Combine(cache, NpmPackageCache.ArchiveName(IconImportOptions.Package, IconImportOptions.PinnedVersion));
        using var gz = new GZipStream(File.Create(archive), CompressionLevel.Fastest);
        using var tar = new TarWriter(gz);
        void Add(string name, byte[] bytes) => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) });
        Add("package/package.json", JsonSerializer.SerializeToUtf8Bytes(new { name = "@iconify/json", version = IconImportOptions.PinnedVersion }));
        var json = new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
        foreach (var (prefix, set) in sets) Add($"package/json/{prefix}.json", JsonSerializer.SerializeToUtf8Bytes(set, json));
        return archive;
    }

    /// <summary>Options that read <paramref name="cache"/> only: a missing archive fails instead of reaching the registry.</summary>
    public static IconImportOptions Options(string cache) =>
        new(Size: 24, MinSets: 3, Classes: 100, TestSets: ["delta"], CacheDirectory: cache, NpmCommand: "/nonexistent/npm", Workers: 2);
}
