using System.Text.Json.Nodes;

namespace TpcCma.Service.Operations;

/// <summary>
/// The problems an operation found: the first <c>keep</c> with their location and message, and a count of every one
/// by kind, so a data set with a million bad records reports a readable sample and exact totals. Thread-safe.
/// </summary>
public sealed class OperationProblems(int keep)
{
    private readonly Lock gate = new();
    private readonly List<JsonObject> first = [];
    private readonly SortedDictionary<string, long> counts = new(StringComparer.Ordinal);
    private long total;

    /// <summary>Changes with every problem added: lets a writer skip an unchanged list.</summary>
    public long Version { get { lock (gate) return total; } }

    /// <param name="kind">A short class of problem, e.g. <c>corrupt-image</c>; counted.</param>
    /// <param name="location">Where it is, e.g. <c>manifest.jsonl:17</c> or <c>reference</c>.</param>
    /// <param name="message">What is wrong there, in the user's words.</param>
    public void Add(string kind, string location, string message)
    {
        lock (gate)
        {
            total++;
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
            if (first.Count < keep) first.Add(new JsonObject { ["kind"] = kind, ["location"] = location, ["message"] = message });
        }
    }

    /// <returns>The errors document, or null when nothing was found.</returns>
    public string? ToJson()
    {
        lock (gate)
        {
            if (total == 0) return null;
            var byKind = new JsonObject();
            foreach (var (kind, count) in counts) byKind[kind] = count;
            return new JsonObject
            {
                ["total"] = total,
                ["counts"] = byKind,
                ["problems"] = new JsonArray([.. first.Select(p => p.DeepClone())]),
                ["truncated"] = total > first.Count,
            }.ToJsonString();
        }
    }
}
