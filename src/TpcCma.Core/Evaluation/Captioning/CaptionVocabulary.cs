namespace TpcCma.Evaluation.Captioning;

/// <summary>
/// Word-level vocabulary of the caption decoder, built from training captions with
/// <see cref="CaptionTokenizer"/>. Ids 0..2 are padding, end of caption and unknown word.
/// </summary>
public sealed class CaptionVocabulary
{
    public const int Pad = 0;
    public const int End = 1;
    public const int Unknown = 2;

    private readonly string[] words;
    private readonly Dictionary<string, int> ids;

    private CaptionVocabulary(string[] words)
    {
        this.words = words;
        ids = words.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i, StringComparer.Ordinal);
    }

    public int Count => words.Length;

    /// <summary>Words seen at least <paramref name="minCount"/> times, most frequent first (ties in ordinal order).</summary>
    public static CaptionVocabulary Build(IEnumerable<string> captions, int minCount = 1)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var word in captions.SelectMany(CaptionTokenizer.Tokenize)) counts[word] = counts.GetValueOrDefault(word) + 1;
        var kept = counts.Where(p => p.Value >= minCount)
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key);
        return new CaptionVocabulary(["<pad>", "<end>", "<unk>", .. kept]);
    }

    /// <summary>Word ids of the caption, cut to <paramref name="maxWords"/>, then the end id.</summary>
    public long[] Encode(string caption, int maxWords) =>
        [.. CaptionTokenizer.Tokenize(caption).Take(maxWords).Select(w => (long)ids.GetValueOrDefault(w, Unknown)), End];

    /// <summary>Words up to the first end id, joined by spaces (padding and unknown ids dropped).</summary>
    public string Decode(IEnumerable<long> tokenIds) =>
        string.Join(' ', tokenIds.TakeWhile(id => id != End).Where(id => id > Unknown && id < words.Length).Select(id => words[id]));
}
