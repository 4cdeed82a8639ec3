using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace TpcCma.Tokenization;

/// <summary>
/// The text normalisation and pre-tokenisation of OpenAI's <c>SimpleTokenizer</c>: HTML-unescape twice, collapse
/// whitespace, lower-case, then split into words with CLIP's pattern
/// <c>&lt;|startoftext|&gt;|&lt;|endoftext|&gt;|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+</c>.
/// ftfy's repairs (mojibake, curly quotes, NFC) are not applied: no .NET port of ftfy exists, and the reference
/// cases show identical ids for clean text. The split walks Unicode scalar values, so letters outside the Basic
/// Multilingual Plane count as letters, as in Python.
/// </summary>
public static partial class ClipTextCleaner
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    /// <summary><c>whitespace_clean(basic_clean(text)).lower()</c>.</summary>
    public static string Clean(string text)
    {
        var unescaped = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text)).Trim();
        var collapsed = Whitespace().Replace(unescaped, " ").Trim();
        return PythonLower(collapsed);
    }

    /// <summary>The words of already cleaned text, in order.</summary>
    public static IEnumerable<string> Split(string cleaned)
    {
        var i = 0;
        while (i < cleaned.Length)
        {
            var length = MatchAt(cleaned, i);
            if (length == 0)
            {
                i += Rune.GetRuneAt(cleaned, i).Utf16SequenceLength;   // whitespace between words
                continue;
            }
            yield return cleaned.Substring(i, length);
            i += length;
        }
    }

    private static int MatchAt(string s, int start)
    {
        foreach (var literal in (ReadOnlySpan<string>)[StartOfText, EndOfText, .. Contractions])
            if (string.CompareOrdinal(s, start, literal, 0, literal.Length) == 0) return literal.Length;
        var first = Rune.GetRuneAt(s, start);
        if (IsNumber(first)) return first.Utf16SequenceLength;
        Func<Rune, bool> inRun = IsLetter(first) ? IsLetter
            : IsSpace(first) ? _ => false
            : r => !IsLetter(r) && !IsNumber(r) && !IsSpace(r);
        var end = start;
        while (end < s.Length && Rune.GetRuneAt(s, end) is var r && inRun(r)) end += r.Utf16SequenceLength;
        return end - start;
    }

    private static bool IsLetter(Rune r) => Rune.IsLetter(r);
    private static bool IsNumber(Rune r) => Rune.IsNumber(r);

    /// <summary>Python's <c>\s</c> for text: Unicode white space plus the separators U+001C..U+001F.</summary>
    private static bool IsSpace(Rune r) => Rune.IsWhiteSpace(r) || r.Value is >= 0x1C and <= 0x1F;

    /// <summary>
    /// Python's <c>str.lower()</c>: the invariant lower case plus the two context rules it applies that .NET does
    /// not: capital dotted I becomes "i̇" and a word-final capital sigma becomes "ς".
    /// </summary>
    private static string PythonLower(string text)
    {
        var lower = text.ToLowerInvariant();
        if (text.IndexOf('\u0130') < 0 && text.IndexOf('\u03A3') < 0) return lower;
        var result = new StringBuilder(text.Length + 4);
        for (var i = 0; i < text.Length; i++)
        {
            result.Append(text[i] switch
            {
                '\u0130' => "i\u0307",
                '\u03A3' => IsFinalSigma(text, i) ? "\u03C2" : "\u03C3",
                _ => lower[i].ToString(),
            });
        }
        return result.ToString();
    }

    private static bool IsFinalSigma(string text, int i) =>
        i > 0 && char.IsLetter(text[i - 1]) && (i + 1 >= text.Length || !char.IsLetter(text[i + 1]));

    [GeneratedRegex(@"[\s\u001C-\u001F]+")]
    private static partial Regex Whitespace();
}
