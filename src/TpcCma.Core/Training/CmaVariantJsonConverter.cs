using System.Text.Json;
using System.Text.Json.Serialization;
using TpcCma.Losses;

namespace TpcCma.Training;

/// <summary>
/// <c>spec.cma</c> as written in a spec: <c>pairwise</c>, <c>geometry</c> or <c>pairwise+geometry</c> (a name that
/// no naming policy produces). A wrong value fails with a message that lists the accepted ones.
/// </summary>
public sealed class CmaVariantJsonConverter : JsonConverter<CmaVariant>
{
    private static readonly (string Name, CmaVariant Value)[] Names =
        [("pairwise", CmaVariant.Pairwise), ("geometry", CmaVariant.Geometry), ("pairwise+geometry", CmaVariant.PairwiseGeometry)];

    public static string Accepted => string.Join(", ", Names.Select(n => n.Name));

    public static string NameOf(CmaVariant value) =>
        Names.FirstOrDefault(n => n.Value == value).Name ?? throw new ArgumentOutOfRangeException(nameof(value), value, "not a CMA variant");

    public override CmaVariant Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"must be one of {Accepted}");
        var text = reader.GetString();
        foreach (var (name, value) in Names)
            if (name == text) return value;
        throw new JsonException($"must be one of {Accepted}, got '{text}'");
    }

    // Raw, so that '+' is written as itself: the default encoder would write "pairwise\u002Bgeometry".
    public override void Write(Utf8JsonWriter writer, CmaVariant value, JsonSerializerOptions options) => writer.WriteRawValue($"\"{NameOf(value)}\"");
}
