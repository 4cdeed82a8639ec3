using System.Net;
using System.Text;

namespace TpcCma.Service.Tests.Api;

/// <summary>One deployment for every test of <see cref="JobRequestValidationTests"/>: requests, however many, need no fresh database.</summary>
public sealed class ValidationDeployment() : UserDeployment("validation", shapes: 24);

/// <summary>Every kind of bad job request gets a ProblemDetails naming what is wrong, and nothing is stored.</summary>
public sealed class JobRequestValidationTests(ValidationDeployment deployment) : IClassFixture<ValidationDeployment>
{
    private async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(string body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        var response = await deployment.Client.SendAsync(request);
        return (response.StatusCode, await ServiceStack.ReadJsonAsync(response));
    }

    private string Body(string spec) => $$"""{"base_model": "{{deployment.Model}}", "dataset": "{{deployment.Dataset}}", "spec": {{spec}}}""";

    [Theory]
    [InlineData("""{"alpha_target": 1.5}""", "spec.alpha_target")]
    [InlineData("""{"alpha_target": -0.1}""", "spec.alpha_target")]
    [InlineData("""{"lr": -1}""", "spec.lr")]
    [InlineData("""{"lr": 0}""", "spec.lr")]
    [InlineData("""{"steps": 0}""", "spec.steps")]
    [InlineData("""{"batch_size": 1}""", "spec.batch_size")]
    [InlineData("""{"p1": 0.7, "p2": 0.5}""", "spec.p2")]
    [InlineData("""{"w_max": 0}""", "spec.w_max")]
    [InlineData("""{"fixed_logit_scale": 1000}""", "spec.fixed_logit_scale")]
    [InlineData("""{"alpah_target": 0.5}""", "spec.alpah_target")]
    [InlineData("""{"alpha_target": "high"}""", "spec.alpha_target")]
    [InlineData("""{"kind": "finetune"}""", "spec.kind")]
    [InlineData("""{"precision": "fp16"}""", "spec.precision")]
    [InlineData("""{"precision": 1}""", "spec.precision")]
    [InlineData("""{"eval": {"prompt_templates": ["no placeholder"]}}""", "spec.eval.prompt_templates")]
    [InlineData("""{"cma": "centroid"}""", "spec.cma")]
    [InlineData("""{"negatives": "hardest"}""", "spec.negatives")]
    [InlineData("""{"negatives": "reweighted", "negatives_beta": -1}""", "spec.negatives_beta")]
    [InlineData("""{"lambda_geom": -2}""", "spec.lambda_geom")]
    [InlineData("""{"lambda_unif": -0.1}""", "spec.lambda_unif")]
    [InlineData("""{"cma": "geometry", "lambda_geom": 0}""", "spec.lambda_geom")]
    [InlineData("""{"kind": "pretrain", "method": "m2mix"}""", "spec.method")]
    [InlineData("""{"method": "m2mix", "m2mix_weight": -1}""", "spec.m2mix_weight")]
    [InlineData("""{"method": "clip_refine", "clip_refine_alpha": 1.5}""", "spec.clip_refine_alpha")]
    [InlineData("""{"method": "align_clip", "align_clip_weight": -1}""", "spec.align_clip_weight")]
    [InlineData("""{"kind": "pretrain", "method": "align_clip"}""", "spec.method")]
    public async Task CreateJob_InvalidSpecField_Returns400NamingTheField(string spec, string field)
    {
        var stored = await deployment.CountAsync("/v1/jobs");
        var (status, body) = await PostAsync(Body(spec));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(body["errors"]!.AsObject().ContainsKey(field), $"errors should name {field}: {body.ToJsonString()}");
        Assert.Equal(stored, await deployment.CountAsync("/v1/jobs"));
    }

    [Fact]
    public async Task CreateJob_SeveralInvalidFields_ListsEveryOne()
    {
        var (status, body) = await PostAsync(Body("""{"lr": -1, "steps": 0, "alpha_target": 2}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var fields = body["errors"]!.AsObject().Select(e => e.Key).ToHashSet();
        Assert.Superset(new HashSet<string> { "spec.lr", "spec.steps", "spec.alpha_target" }, fields);
    }

    [Theory]
    [InlineData("{not json", "body")]
    [InlineData("""{"dataset": "not-a-guid"}""", "dataset")]
    [InlineData("""{"queue": "GPU!"}""", "queue")]
    [InlineData("""{"unknown": 1}""", "unknown")]
    public async Task CreateJob_MalformedBody_Returns400NamingTheField(string body, string field)
    {
        var (status, problem) = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }

    [Fact]
    public async Task CreateJob_MissingReferences_Returns400ForEach()
    {
        var (status, body) = await PostAsync("""{"spec": {"kind": "align"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(body["errors"]!.AsObject().ContainsKey("base_model"));
        Assert.True(body["errors"]!.AsObject().ContainsKey("dataset"));
    }

    [Fact]
    public async Task CreateJob_UnknownDataset_Returns404NamingIt()
    {
        var (status, body) = await PostAsync($$"""{"base_model": "{{deployment.Model}}", "dataset": "{{Guid.NewGuid()}}"}""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("dataset", body["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateJob_WrongContentType_IsRefused()
    {
        var response = await deployment.Client.PostAsync("/v1/jobs", new StringContent(Body("{}"), Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task CreateJob_SameIdempotencyKey_ReturnsSameJobOr409()
    {
        var body = Body("""{"steps": 5, "batch_size": 8}""");
        var (first, created) = await PostAsync(body, "key-1");
        var (again, repeated) = await PostAsync(body, "key-1");
        var (conflict, _) = await PostAsync(Body("""{"steps": 6, "batch_size": 8}"""), "key-1");
        Assert.Equal(HttpStatusCode.Created, first);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(created["id"]!.GetValue<string>(), repeated["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, conflict);
    }

    [Fact]
    public async Task CreateJob_WithoutSeed_GeneratesAndReturnsOne()
    {
        var (status, job) = await PostAsync(Body("""{"steps": 5, "batch_size": 8}"""));
        Assert.Equal(HttpStatusCode.Created, status);
        var seed = job["seed"]!.GetValue<long>();
        Assert.True(seed > 0);
        Assert.Equal(seed, job["spec"]!["seed"]!.GetValue<long>());
        Assert.Equal("queued", job["status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("bf16")]   // bf16 autocast runs on CPU workers too (measured: PrecisionTests), so it is accepted anywhere
    [InlineData("fp32")]
    public async Task CreateJob_WithPrecision_IsStoredAsAsked(string precision)
    {
        var (status, job) = await PostAsync(Body($$"""{"steps": 5, "batch_size": 8, "precision": "{{precision}}"}"""));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(precision, job["spec"]!["precision"]!.GetValue<string>());
    }
}
