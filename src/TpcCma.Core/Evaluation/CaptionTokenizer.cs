namespace TpcCma.Evaluation;

/// <summary>
/// The caption tokenisation of the metric reference data: lowercase, delete <c>. , ! ? ; : ' "</c>, split
/// on whitespace. (Not the COCO PTB tokenizer, which needs Java.)
/// </summary>
public static class CaptionTokenizer
{
    private static readonly HashSet<char> Deleted = ['.', ',', '!', '?', ';', ':', '\'', '"'];

    public static string[] Tokenize(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var kept = caption.ToLowerInvariant().Where(ch => !Deleted.Contains(ch)).ToArray();
        return new string(kept).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The tokens joined by single spaces: the form <see cref="CiderD"/> reads.</summary>
    public static string Normalize(string caption) => string.Join(' ', Tokenize(caption));
}
