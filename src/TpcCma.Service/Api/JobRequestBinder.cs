using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using TpcCma.Service.Jobs;
using TpcCma.Training;

namespace TpcCma.Service.Api;

/// <summary>A create-job body, read and validated once: every invalid field is named, nothing is half-accepted.</summary>
public sealed record BoundJobRequest(CreateJobRequest Request, TrainingSpec Spec, string BodySha256);

public static class JobRequestBinder
{
    public const int MaxNameLength = 200;

    /// <summary>
    /// Parses and validates; on failure returns the field errors (key = field path, e.g. <c>spec.lr</c>). Every field is
    /// checked: a field of the wrong type is named with the type it needs, and the remaining fields are still validated.
    /// </summary>
    public static (BoundJobRequest? Bound, Dictionary<string, string[]> Errors) Bind(string body, string defaultQueue)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            errors[ApiJson.FieldOf(ex.Path, "body")] = [Clean(ex.Message)];
            return (null, errors);
        }
        catch (ArgumentException ex)   // a field given twice
        {
            errors["body"] = [ex.Message];
            return (null, errors);
        }
        if (root is not JsonObject json) return (null, new() { ["body"] = ["the body must be a JSON object"] });

        JsonFieldErrors.Collect(json, typeof(CreateJobRequest), ApiJson.Strict, "", errors);
        var specJson = json["spec"] as JsonObject ?? new JsonObject();
        JsonFieldErrors.Collect(specJson, typeof(TrainingSpec), TrainingSpec.JsonOptions, "spec.", errors);
        CreateJobRequest request;
        TrainingSpec? spec = null;
        try
        {
            // The fields of the right type, read together (what is wrong is reported above and left out here).
            request = JsonFieldErrors.Without(json, errors, "").Deserialize<CreateJobRequest>(ApiJson.Strict) ?? new CreateJobRequest();
            request = request with { Spec = null };
            spec = JsonFieldErrors.Without(specJson, errors, "spec.").Deserialize<TrainingSpec>(TrainingSpec.JsonOptions)
                ?? throw new JsonException("the spec is null");
        }
        catch (JsonException ex)
        {
            errors.TryAdd("spec." + ApiJson.FieldOf(ex.Path, "").TrimStart('.'), [Clean(ex.Message)]);
            return (null, errors);
        }

        if (request.Name is { Length: > MaxNameLength }) errors["name"] = [$"must be at most {MaxNameLength} characters"];
        // PostgreSQL text cannot hold U+0000, and no other control character belongs in a name shown in lists.
        else if (request.Name?.Any(char.IsControl) == true) errors["name"] = ["must not contain control characters"];
        var queue = request.Queue ?? defaultQueue;
        if (!errors.ContainsKey("queue") && !QueueNames.IsValid(queue)) errors["queue"] = [QueueNames.Rule];

        // A spec without a seed gets one now, so the stored job is reproducible and the client learns it.
        if (!specJson.ContainsKey("seed")) spec = spec with { Seed = RandomNumberGenerator.GetInt32(1, int.MaxValue) };
        foreach (var (field, messages) in spec.Validate()) errors.TryAdd("spec." + field, messages);
        if (spec.Kind != JobKind.Pretrain && request.BaseModel is null && !errors.ContainsKey("base_model"))
            errors["base_model"] = [$"is required for a job of kind {Kind(spec)}"];
        if (request.Dataset is null && !errors.ContainsKey("dataset")) errors["dataset"] = ["is required"];
        if (spec.InitWeights is not null) errors["spec.init_weights"] = ["is set by the service from base_model; leave it out"];
        if (spec.Dataset is not null) errors["spec.dataset"] = ["is set by the service from dataset; leave it out"];
        var hash = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(body)));
        return errors.Count > 0 ? (null, errors) : (new BoundJobRequest(request with { Queue = queue, Spec = specJson }, spec, hash), errors);
    }

    public static string Kind(TrainingSpec spec) => JsonNamingPolicy.SnakeCaseLower.ConvertName(spec.Kind.ToString());

    /// <summary>System.Text.Json's messages end with a path and line numbers already given by the field name.</summary>
    private static string Clean(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
