namespace TpcCma.Tokenization;

/// <summary>
/// GPT-2/CLIP's reversible map from the 256 byte values to printable characters (<c>bytes_to_unicode</c>), so BPE
/// runs on strings without whitespace or control characters while still covering every UTF-8 byte.
/// </summary>
public static class ByteUnicode
{
    /// <summary>Character for each byte value, in OpenAI's order (also the order of the first 256 vocabulary entries).</summary>
    public static IReadOnlyList<char> ByteToChar { get; } = Build();

    public static IReadOnlyDictionary<char, byte> CharToByte { get; } =
        ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    /// <summary>Characters in vocabulary order: printable bytes first, then the others mapped above U+0100.</summary>
    public static IReadOnlyList<char> VocabularyOrder { get; } = BuildOrder();

    public static string Encode(ReadOnlySpan<byte> utf8)
    {
        var chars = new char[utf8.Length];
        for (var i = 0; i < utf8.Length; i++) chars[i] = ByteToChar[utf8[i]];
        return new string(chars);
    }

    private static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] Build()
    {
        var map = new char[256];
        var next = 0;
        for (var b = 0; b < 256; b++) map[b] = Printable(b) ? (char)b : (char)(256 + next++);
        return map;
    }

    private static char[] BuildOrder()
    {
        var map = Build();
        return Enumerable.Range(0, 256).Where(Printable).Concat(Enumerable.Range(0, 256).Where(b => !Printable(b)))
            .Select(b => map[b]).ToArray();
    }
}
