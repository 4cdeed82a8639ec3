using System.Text;

namespace TpcCma.Tokenization;

/// <summary>
/// Learns a CLIP-format BPE (same cleaning, word split, byte alphabet and <c>&lt;/w&gt;</c> word ends as
/// <see cref="ClipTokenizer"/>) from a caption corpus, for models trained from scratch. The vocabulary keeps
/// OpenAI's layout: 512 byte tokens, one per merge, then SOT and EOT, so EOT stays the highest id (text pooling
/// takes <c>argmax(ids)</c>).
/// </summary>
public static class ClipBpeTrainer
{
    /// <summary>Byte tokens, with and without <c>&lt;/w&gt;</c>, plus SOT and EOT: the smallest vocabulary.</summary>
    public const int BaseVocabSize = 512 + 2;

    /// <param name="corpus">Raw captions.</param>
    /// <param name="vocabSize">Target size; fewer merges are learned when no pair occurs <paramref name="minFrequency"/> times.</param>
    /// <param name="minFrequency">A pair is merged only if it occurs at least this often.</param>
    public static ClipTokenizer Train(IEnumerable<string> corpus, int vocabSize, int minFrequency = 2)
    {
        if (vocabSize < BaseVocabSize) throw new ArgumentException($"vocabulary size must be at least {BaseVocabSize}, got {vocabSize}");
        if (minFrequency < 1) throw new ArgumentException($"minimum frequency must be at least 1, got {minFrequency}");

        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in corpus)
            foreach (var word in ClipTextCleaner.Split(ClipTextCleaner.Clean(text)))
                if (word is not (ClipTextCleaner.StartOfText or ClipTextCleaner.EndOfText))
                    wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;

        var words = wordCounts.Select(kv => new Word(Symbols(kv.Key), kv.Value)).ToList();
        var pairs = new PairCounts();
        for (var w = 0; w < words.Count; w++) pairs.Add(words[w], w, +1);

        var merges = new List<(string, string)>();
        while (merges.Count < vocabSize - BaseVocabSize && pairs.Best(minFrequency) is var (first, second))
        {
            merges.Add((first, second));
            foreach (var w in pairs.WordsWith(first, second))
            {
                pairs.Add(words[w], w, -1);
                words[w] = words[w].Merge(first, second);
                pairs.Add(words[w], w, +1);
            }
        }
        return new ClipTokenizer(ClipTokenizer.VocabularyFor(merges), merges);
    }

    private static List<string> Symbols(string word)
    {
        var chars = ByteUnicode.Encode(Encoding.UTF8.GetBytes(word));
        var symbols = chars[..^1].Select(c => c.ToString()).ToList();
        symbols.Add(chars[^1] + "</w>");
        return symbols;
    }

    private sealed record Word(List<string> Symbols, int Count)
    {
        public Word Merge(string first, string second) => this with { Symbols = ClipTokenizer.MergePair(Symbols, first, second) };
    }

    /// <summary>Weighted counts of adjacent symbol pairs and which words hold each, updated per merge.</summary>
    private sealed class PairCounts
    {
        private readonly Dictionary<(string, string), long> counts = new();
        private readonly Dictionary<(string, string), HashSet<int>> where = new();

        public void Add(Word word, int index, int sign)
        {
            for (var i = 0; i < word.Symbols.Count - 1; i++)
            {
                var pair = (word.Symbols[i], word.Symbols[i + 1]);
                var count = counts.GetValueOrDefault(pair) + sign * word.Count;
                if (count == 0) counts.Remove(pair); else counts[pair] = count;
                if (sign > 0)
                {
                    if (!where.TryGetValue(pair, out var set)) where[pair] = set = [];
                    set.Add(index);
                }
            }
        }

        /// <summary>Most frequent pair; ties go to the ordinally smallest, so training is deterministic.</summary>
        public (string, string)? Best(int minFrequency)
        {
            (string, string)? best = null;
            long bestCount = 0;
            foreach (var (pair, count) in counts)
            {
                if (count < minFrequency) continue;
                if (count > bestCount || (count == bestCount && Compare(pair, best!.Value) < 0)) (best, bestCount) = (pair, count);
            }
            return best;
        }

        /// <summary>Words that held the pair (some may no longer: merging them is then a no-op).</summary>
        public List<int> WordsWith(string first, string second) =>
            where.Remove((first, second), out var set) ? set.Order().ToList() : [];

        private static int Compare((string A, string B) x, (string A, string B) y)
        {
            var c = string.CompareOrdinal(x.A, y.A);
            return c != 0 ? c : string.CompareOrdinal(x.B, y.B);
        }
    }
}
