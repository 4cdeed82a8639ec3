using System.Text.Json.Nodes;
using TpcCma.Core.Tests.Model;
using TpcCma.Tokenization;

namespace TpcCma.Core.Tests.Tokenization;

/// <summary>The tokenizer against OpenAI <c>SimpleTokenizer</c> outputs, from both vocabulary sources.</summary>
public class ClipTokenizerTests
{
    private static readonly Lazy<ClipTokenizer> FromGz = new(() => ClipTokenizer.Load(TinyClip.BpeGz));
    private static readonly Lazy<ClipTokenizer> FromHf = new(() => ClipTokenizer.Load(TinyClip.HfDirectory));

    public static TheoryData<string> Sources => new() { "gz", "hf" };

    private static ClipTokenizer Get(string source) => source == "gz" ? FromGz.Value : FromHf.Value;

    private static int[] Ints(JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<int>()).ToArray();

    [Theory]
    [MemberData(nameof(Sources))]
    public void Encode_MatchesEveryReferenceCase_VocabularySource(string source)
    {
        var tokenizer = Get(source);
        var cases = JsonNode.Parse(File.ReadAllText(TinyClip.TokenizerCases))!["cases"]!.AsArray();
        Assert.Equal(28, cases.Count);
        var failures = new List<string>();
        foreach (var c in cases)
        {
            var text = c!["text"]!.GetValue<string>();
            var ids = tokenizer.Encode(text).ToArray();
            if (!ids.SequenceEqual(Ints(c["ids"])))
                failures.Add($"{c["name"]}: '{text}' -> [{string.Join(",", ids)}] tokens [{string.Join(" ", tokenizer.Tokens(ids))}], expected [{string.Join(",", Ints(c["ids"]))}]");
            var withSpecial = ids.Prepend(tokenizer.StartOfTextId).Append(tokenizer.EndOfTextId);
            Assert.Equal(Ints(c["ids_with_special"]), withSpecial);
            Assert.Equal(c["bpe_tokens"]!.AsArray().Select(t => t!.GetValue<string>()), tokenizer.Tokens(Ints(c["ids"])));
            Assert.Equal(c["cleaned_text"]!.GetValue<string>(), ClipTextCleaner.Clean(text));
            Assert.Equal(c["decoded"]!.GetValue<string>(), tokenizer.Decode(Ints(c["ids"])));
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Encode_MatchesSimpleTokenizerWithoutFtfy_FtfySensitiveCases()
    {
        // ftfy is not applied (documented in ClipTextCleaner); everything after it must still agree.
        var cases = JsonNode.Parse(File.ReadAllText(TinyClip.TokenizerCases))!["ftfy_sensitive_cases"]!.AsArray();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
            Assert.Equal(Ints(c!["ids_without_ftfy"]), FromHf.Value.Encode(c["text"]!.GetValue<string>()));
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Tokenize_MatchesCaptionIdsWithContext16_VocabularySource(string source)
    {
        var tokenizer = Get(source);
        var captions = JsonNode.Parse(File.ReadAllText(TinyClip.Captions))!;
        var entries = captions["captions"]!.AsArray();
        var texts = entries.Select(e => e!["text"]!.GetValue<string>()).ToList();

        using var ids = tokenizer.Tokenize(texts, captions["context_length"]!.GetValue<int>());

        Assert.Equal([texts.Count, 16], ids.shape);
        for (var i = 0; i < texts.Count; i++)
            Assert.Equal(Ints(entries[i]!["input_ids_ctx16"]).Select(v => (long)v), ids[i].data<long>().ToArray());
    }

    [Fact]
    public void Load_GivesIdenticalVocabularies_GzAndHfFiles()
    {
        Assert.Equal(49408, FromGz.Value.VocabSize);
        Assert.Equal(FromGz.Value.VocabSize, FromHf.Value.VocabSize);
        Assert.Equal(FromGz.Value.Merges, FromHf.Value.Merges);
        Assert.Equal(49406, FromHf.Value.StartOfTextId);
        Assert.Equal(49407, FromHf.Value.EndOfTextId);
    }

    [Fact]
    public void Tokenize_KeepsEotLast_TextLongerThanContext()
    {
        using var ids = FromGz.Value.Tokenize(["one two three four five six seven"], 5);
        var row = ids[0].data<long>().ToArray();
        Assert.Equal(FromGz.Value.StartOfTextId, row[0]);
        Assert.Equal(FromGz.Value.EndOfTextId, row[4]);
        Assert.Equal(FromGz.Value.Encode("one two three"), row[1..4].Select(v => (int)v));
    }

    [Fact]
    public void Tokenize_Throws_ContextShorterThanTwo()
    {
        var ex = Assert.Throws<ArgumentException>(() => FromGz.Value.Tokenize(["a"], 1));
        Assert.Contains("context length", ex.Message);
    }
}
