using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TpcCma.Data;

/// <summary>
/// Deterministic splits: a sample's split depends only on its id (SHA-256 of its UTF-8 bytes), so it is the same
/// on every run and platform, and adding samples never moves existing ones.
/// </summary>
public static class DatasetSplits
{
    /// <summary>The id's position in [0, 1): the first 8 bytes of SHA-256 as a big-endian integer over 2^64.</summary>
    public static double HashFraction(string id) =>
        BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(id))) / 18446744073709551616.0;

    /// <summary>The split whose cumulative ratio range holds the id's hash fraction. Ratios are normalised to sum 1.</summary>
    public static string Assign(string id, IReadOnlyList<(string Name, double Ratio)> ratios)
    {
        Validate(ratios);
        var total = ratios.Sum(r => r.Ratio);
        var fraction = HashFraction(id) * total;
        var cumulative = 0.0;
        foreach (var (name, ratio) in ratios)
        {
            cumulative += ratio;
            if (fraction < cumulative) return name;
        }
        return ratios[^1].Name;
    }

    /// <summary>Assigns splits by hash; samples that already name a split keep it unless <paramref name="overwrite"/>.</summary>
    public static ImageTextDataset ByHash(ImageTextDataset dataset, IReadOnlyList<(string Name, double Ratio)> ratios, bool overwrite = false) =>
        dataset.WithSamples([.. dataset.Samples.Select(s => s.Split is null || overwrite ? s with { Split = Assign(s.Id, ratios) } : s)]);

    /// <summary>Parses <c>train=0.8,test=0.2</c>.</summary>
    public static IReadOnlyList<(string Name, double Ratio)> Parse(string text)
    {
        var ratios = new List<(string, double)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0 || !double.TryParse(part[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio))
                throw new ArgumentException($"split ratio '{part}' must look like name=0.8");
            ratios.Add((part[..eq].Trim(), ratio));
        }
        Validate(ratios);
        return ratios;
    }

    private static void Validate(IReadOnlyList<(string Name, double Ratio)> ratios)
    {
        if (ratios.Count == 0) throw new ArgumentException("at least one split ratio is needed");
        if (ratios.FirstOrDefault(r => !double.IsFinite(r.Ratio) || r.Ratio <= 0) is { Name: not null } bad)
            throw new ArgumentException($"split '{bad.Name}' has ratio {bad.Ratio}; ratios must be positive");
        if (ratios.Select(r => r.Name).Distinct().Count() != ratios.Count) throw new ArgumentException("split names must be distinct");
    }
}
