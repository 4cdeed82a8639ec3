using System.Globalization;
using System.Text.Json.Nodes;

namespace TpcCma.Cli.Commands.Client;

/// <summary>
/// Where and how a client command prints: JSON (for scripts) or aligned tables (for people), and progress as
/// a redrawn bar on a terminal but as plain lines when the output goes to a CI log.
/// </summary>
public sealed class ClientOutput(bool json, TextWriter output, TextWriter errors, bool interactive)
{
    public bool Json { get; } = json;
    public TextWriter Out { get; } = output;
    public TextWriter Errors { get; } = errors;
    /// <summary>Progress and notes: standard output, except with --output json, which keeps it parseable.</summary>
    public TextWriter Log => Json ? Errors : Out;
    /// <summary>A terminal reads the output: redraw one progress line instead of appending lines.</summary>
    public bool Interactive { get; } = interactive;

    public void Document(JsonNode? node, Action table)
    {
        if (Json) Out.WriteLine(ClientCommand.Pretty(node));
        else table();
    }

    /// <summary>Columns padded to their widest cell.</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => all.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        Out.WriteLine(string.Join("  ", headers.Select((h, i) => h.ToUpperInvariant().PadRight(widths[i]))).TrimEnd());
        foreach (var row in all) Out.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>Name: value lines.</summary>
    public void Fields(params (string Name, string? Value)[] fields)
    {
        var width = fields.Max(f => f.Name.Length) + 1;
        foreach (var (name, value) in fields.Where(f => f.Value is not null)) Out.WriteLine($"{(name + ":").PadRight(width)} {value}");
    }

    private int lastPercent = -1;

    /// <summary>A bar redrawn in place on a terminal; in a log, a line only when the text (or a 10 % step) changes.</summary>
    public void Progress(double fraction, string text)
    {
        fraction = Math.Clamp(double.IsFinite(fraction) ? fraction : 0, 0, 1);
        if (Interactive)
        {
            const int width = 30;
            var filled = (int)Math.Round(fraction * width);
            Log.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,5:F1}% {text}".PadRight(100));
            return;
        }
        var percent = (int)(fraction * 10) * 10;
        if (percent == lastPercent) return;
        lastPercent = percent;
        Log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{percent,3}% {text}"));
    }

    /// <summary>Ends a bar's line so what follows starts on a fresh one.</summary>
    public void EndProgress()
    {
        if (Interactive) Log.WriteLine();
        lastPercent = -1;
    }

    public static string Text(JsonNode? node) => node switch
    {
        null => "-",
        JsonValue v when v.TryGetValue<double>(out var d) => d.ToString("G6", CultureInfo.InvariantCulture),
        JsonValue v => v.ToString(),
        _ => node.ToJsonString(),
    };
}
