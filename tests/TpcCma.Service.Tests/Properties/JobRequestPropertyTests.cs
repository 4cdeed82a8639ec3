using System.Net;
using System.Text;
using CsCheck;

namespace TpcCma.Service.Tests.Properties;

/// <summary>
/// Generated job requests: every invalid one is a 400 whose errors name the bad field (never a 500), every valid one
/// is a 201, and only the accepted ones are stored.
/// </summary>
public sealed class JobRequestPropertyTests(ITestOutputHelper output) : UserDeploymentTests(new UserDeployment("properties", shapes: 16))
{
    private const int Cases = 150;

    [Fact]
    public async Task CreateJob_GeneratedRequests_ValidAre201InvalidAre400NamingTheField()
    {
        var accepted = 0;
        var refused = 0;
        await JobSpecGen.Request.SampleAsync(async mutations =>
        {
            var body = Body(mutations);
            var response = await Client.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            var invalid = mutations.Where(m => !m.Valid).ToList();
            if (invalid.Count == 0)
            {
                Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} for a valid request {body}: {text}");
                Interlocked.Increment(ref accepted);
                return;
            }
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} for {string.Join(", ", invalid)}: {text}");
            var keys = JsonNode.Parse(text)!["errors"]!.AsObject().Select(e => e.Key).ToList();
            // No error is blamed on a field that was valid; at least one bad field is named, and all of them when
            // each had the right JSON type (the parser stops at the first wrong type, range checks list everything).
            Assert.All(keys, k => Assert.True(invalid.Any(m => Names(k, m.Field)), $"error '{k}' names none of {string.Join(", ", invalid)}: {text}"));
            Assert.Contains(invalid, m => keys.Any(k => Names(k, m.Field)));
            if (invalid.All(m => m.Parses))
                Assert.All(invalid, m => Assert.True(keys.Any(k => Names(k, m.Field)), $"{m.Field} not named: {text}"));
            Interlocked.Increment(ref refused);
        }, iter: Cases, threads: 1);

        output.WriteLine($"{accepted} accepted, {refused} refused");
        Assert.True(accepted > 10 && refused > 10, $"the generator should give both kinds: {accepted} accepted, {refused} refused");
        var stored = (await ServiceStack.ReadJsonAsync(await Client.GetAsync("/v1/jobs?limit=500")))["data"]!.AsArray();
        Assert.Equal(accepted, stored.Count);
    }

    /// <summary>An error key names a field when it is the field or a part of it (e.g. <c>spec.eval.max_pairs</c> in <c>spec.eval</c>).</summary>
    private static bool Names(string key, string field) =>
        key.StartsWith(field, StringComparison.Ordinal) || field.StartsWith(key + ".", StringComparison.Ordinal);

    /// <summary>A small valid align job with the mutations written over it.</summary>
    private string Body(IReadOnlyList<Mutation> mutations)
    {
        var top = new Dictionary<string, string> { ["base_model"] = $"\"{Model}\"", ["dataset"] = $"\"{Dataset}\"" };
        var spec = new Dictionary<string, string> { ["steps"] = "5", ["batch_size"] = "8" };
        var eval = new Dictionary<string, string>();
        foreach (var m in mutations)
        {
            if (m.Field.StartsWith("spec.eval.", StringComparison.Ordinal)) eval[m.Field["spec.eval.".Length..]] = m.Json;
            else if (m.Field.StartsWith("spec.", StringComparison.Ordinal)) spec[m.Field["spec.".Length..]] = m.Json;
            else top[m.Field] = m.Json;
        }
        if (eval.Count > 0) spec["eval"] = Object(eval);
        top["spec"] = Object(spec);
        return Object(top);
    }

    private static string Object(Dictionary<string, string> fields) =>
        "{" + string.Join(", ", fields.Select(f => $"\"{f.Key}\": {f.Value}")) + "}";
}
