using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace TpcCma.Tokenization;

/// <summary>
/// CLIP's byte-level BPE tokenizer (OpenAI <c>SimpleTokenizer</c>): cleaned, lower-cased words, byte-mapped, with
/// <c>&lt;/w&gt;</c> marking each word's end, merged by merge rank. Loads an HF <c>vocab.json</c> + <c>merges.txt</c> pair
/// or OpenAI's <c>bpe_simple_vocab_16e6.txt.gz</c>. Thread-safe.
/// </summary>
public sealed class ClipTokenizer
{
    /// <summary>Merges OpenAI uses from its merges file (<c>49152 - 256 - 2</c>); the file holds more.</summary>
    public const int OpenAiMergeCount = 49152 - 256 - 2;
    private const int MaxCacheEntries = 200_000;

    private readonly Dictionary<string, int> encoder;
    private readonly string[] decoder;
    private readonly Dictionary<(string, string), int> ranks;
    private readonly ConcurrentDictionary<string, int[]> cache = new(StringComparer.Ordinal);

    /// <param name="vocabulary">Token string to id; ids must be 0..N-1 and include the two special tokens.</param>
    /// <param name="merges">Merge rules in rank order.</param>
    public ClipTokenizer(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<(string First, string Second)> merges)
    {
        encoder = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        decoder = new string[encoder.Count];
        foreach (var (token, id) in encoder)
        {
            if (id < 0 || id >= decoder.Length || decoder[id] is not null)
                throw new InvalidDataException($"vocabulary ids must be 0..{decoder.Length - 1} without repeats; '{token}' has {id}");
            decoder[id] = token;
        }
        Merges = merges.ToList();
        ranks = new Dictionary<(string, string), int>();
        for (var i = 0; i < Merges.Count; i++) ranks.TryAdd(Merges[i], i);
        var missing = Merges.Select(m => m.First + m.Second).Where(t => !encoder.ContainsKey(t)).Take(5).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"merge results missing from the vocabulary: {string.Join(", ", missing)}");
        StartOfTextId = Id(ClipTextCleaner.StartOfText);
        EndOfTextId = Id(ClipTextCleaner.EndOfText);
    }

    public int VocabSize => decoder.Length;
    public int StartOfTextId { get; }
    public int EndOfTextId { get; }
    public IReadOnlyList<(string First, string Second)> Merges { get; }

    /// <summary>Loads a folder holding <c>vocab.json</c> + <c>merges.txt</c>, or an OpenAI <c>.txt.gz</c>/<c>.txt</c> merges file.</summary>
    public static ClipTokenizer Load(string path)
    {
        if (Directory.Exists(path)) return FromVocabAndMerges(Path.Combine(path, "vocab.json"), Path.Combine(path, "merges.txt"));
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer not found: {path}", path);
        return path.EndsWith("vocab.json", StringComparison.Ordinal)
            ? FromVocabAndMerges(path, Path.Combine(Path.GetDirectoryName(path)!, "merges.txt"))
            : FromOpenAiMerges(path);
    }

    /// <summary>An HF CLIP tokenizer's <c>vocab.json</c> and <c>merges.txt</c> (first line <c>#version</c>).</summary>
    public static ClipTokenizer FromVocabAndMerges(string vocabPath, string mergesPath)
    {
        foreach (var p in new[] { vocabPath, mergesPath })
            if (!File.Exists(p)) throw new FileNotFoundException($"tokenizer file not found: {p}", p);
        Dictionary<string, int> vocab;
        try
        {
            vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
                ?? throw new InvalidDataException($"{vocabPath}: empty vocabulary");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{vocabPath}: not a token-to-id JSON object: {ex.Message}");
        }
        var lines = File.ReadAllLines(mergesPath).Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal));
        return new ClipTokenizer(vocab, ParseMerges(lines, mergesPath));
    }

    /// <summary>OpenAI's merges file: a header line, then merges; the vocabulary is derived from them as OpenAI does.</summary>
    public static ClipTokenizer FromOpenAiMerges(string path, int mergeCount = OpenAiMergeCount)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var lines = reader.ReadToEnd().Split('\n').Skip(1).Take(mergeCount);
        var merges = ParseMerges(lines, path);
        return new ClipTokenizer(VocabularyFor(merges), merges);
    }

    /// <summary>
    /// OpenAI's vocabulary layout: 256 byte characters, the same with <c>&lt;/w&gt;</c>, one entry per merge, then SOT
    /// and EOT. A merge whose result is already a token (two merge paths to one string) adds no second entry.
    /// </summary>
    public static Dictionary<string, int> VocabularyFor(IReadOnlyList<(string First, string Second)> merges)
    {
        var bytes = ByteUnicode.VocabularyOrder.Select(c => c.ToString()).ToList();
        var tokens = bytes.Concat(bytes.Select(b => b + "</w>")).Concat(merges.Select(m => m.First + m.Second))
            .Append(ClipTextCleaner.StartOfText).Append(ClipTextCleaner.EndOfText);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in tokens) vocab.TryAdd(token, vocab.Count);
        return vocab;
    }

    /// <summary>BPE ids of <paramref name="text"/>, without SOT/EOT.</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (var word in ClipTextCleaner.Split(ClipTextCleaner.Clean(text))) ids.AddRange(EncodeWord(word));
        return ids;
    }

    /// <summary>The token strings of <paramref name="ids"/> (for inspection).</summary>
    public IReadOnlyList<string> Tokens(IEnumerable<int> ids) => ids.Select(Token).ToList();

    /// <summary>OpenAI's <c>decode</c>: tokens joined, bytes restored, each <c>&lt;/w&gt;</c> read as a space.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var text = string.Concat(ids.Select(Token));
        var bytes = text.Select(c => ByteUnicode.CharToByte.TryGetValue(c, out var b) ? b : (byte)'?').ToArray();
        return Encoding.UTF8.GetString(bytes).Replace("</w>", " ");
    }

    /// <summary>
    /// OpenAI <c>clip.tokenize(texts, context_length, truncate=True)</c>: int64 [N, L] of SOT, ids, EOT, right-padded
    /// with 0; a text too long is cut to L tokens with EOT written over the last one.
    /// </summary>
    public Tensor Tokenize(IReadOnlyList<string> texts, int contextLength)
    {
        if (contextLength < 2) throw new ArgumentException($"context length must be at least 2 (SOT and EOT), got {contextLength}");
        var data = new long[texts.Count * contextLength];
        for (var row = 0; row < texts.Count; row++)
        {
            var ids = Encode(texts[row]);
            var kept = Math.Min(ids.Count, contextLength - 2);
            var offset = row * contextLength;
            data[offset] = StartOfTextId;
            for (var i = 0; i < kept; i++) data[offset + 1 + i] = ids[i];
            data[offset + 1 + kept] = EndOfTextId;
        }
        return tensor(data, [texts.Count, contextLength], ScalarType.Int64);
    }

    /// <summary>Writes <c>vocab.json</c> and <c>merges.txt</c> in the HF format into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var vocab = decoder.Select((t, id) => KeyValuePair.Create(t, id));
        File.WriteAllText(Path.Combine(directory, "vocab.json"), JsonSerializer.Serialize(new Dictionary<string, int>(vocab)));
        File.WriteAllLines(Path.Combine(directory, "merges.txt"), Merges.Select(m => $"{m.First} {m.Second}").Prepend("#version: 0.2"));
    }

    private string Token(int id) => id >= 0 && id < decoder.Length
        ? decoder[id]
        : throw new ArgumentOutOfRangeException(nameof(id), $"token id {id} is outside the vocabulary (0..{decoder.Length - 1})");

    private int Id(string token) => encoder.TryGetValue(token, out var id)
        ? id
        : throw new InvalidDataException($"vocabulary has no '{token}'");

    private int[] EncodeWord(string word)
    {
        if (cache.TryGetValue(word, out var cached)) return cached;
        var ids = word is ClipTextCleaner.StartOfText or ClipTextCleaner.EndOfText
            ? [Id(word)]
            : Bpe(ByteUnicode.Encode(Encoding.UTF8.GetBytes(word))).Select(Id).ToArray();
        if (cache.Count >= MaxCacheEntries) cache.Clear();
        cache[word] = ids;
        return ids;
    }

    /// <summary>OpenAI's <c>bpe</c>: repeatedly merge the adjacent pair of lowest rank, everywhere it occurs.</summary>
    private List<string> Bpe(string token)
    {
        var word = new List<string>(token.Length);
        for (var i = 0; i < token.Length - 1; i++) word.Add(token[i].ToString());
        word.Add(token[^1] + "</w>");
        while (word.Count > 1)
        {
            (string, string)? best = null;
            var bestRank = int.MaxValue;
            for (var i = 0; i < word.Count - 1; i++)
                if (ranks.TryGetValue((word[i], word[i + 1]), out var rank) && rank < bestRank)
                    (best, bestRank) = ((word[i], word[i + 1]), rank);
            if (best is not var (first, second)) break;
            word = MergePair(word, first, second);
        }
        return word;
    }

    /// <summary>The symbols with every adjacent (first, second), scanned left to right, replaced by one merged symbol.</summary>
    internal static List<string> MergePair(IReadOnlyList<string> symbols, string first, string second)
    {
        var merged = new List<string>(symbols.Count);
        for (var i = 0; i < symbols.Count; i++)
        {
            if (i < symbols.Count - 1 && symbols[i] == first && symbols[i + 1] == second)
            {
                merged.Add(first + second);
                i++;
            }
            else merged.Add(symbols[i]);
        }
        return merged;
    }

    private static List<(string, string)> ParseMerges(IEnumerable<string> lines, string source)
    {
        var merges = new List<(string, string)>();
        foreach (var line in lines)
        {
            var parts = line.TrimEnd('\r').Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidDataException($"{source}: merge line {merges.Count + 1} is not two tokens: '{line}'");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }
}
