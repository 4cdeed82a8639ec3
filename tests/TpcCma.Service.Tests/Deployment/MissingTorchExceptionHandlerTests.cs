using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace TpcCma.Service.Tests.Deployment;

/// <summary>
/// The safety net of the API image: a request that reaches TorchSharp on a node without libtorch answers 503 with a
/// ProblemDetails naming the path and the image to use. The exception is built here as TorchSharp throws it (its type
/// initializer failing over a NotSupportedException), since no request path of the API should produce it for real.
/// </summary>
public sealed class MissingTorchExceptionHandlerTests
{
    private static Exception TorchSharpWithoutNatives() => new TypeInitializationException("TorchSharp.torch",
        new NotSupportedException("This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64, Version=2.10.0."));

    private static async Task<(bool Handled, HttpContext Http)> HandleAsync(Exception exception)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Request.Method = "POST";
        http.Request.Path = "/v1/models";
        http.Response.Body = new MemoryStream();
        var handler = new MissingTorchExceptionHandler(services.GetRequiredService<IProblemDetailsService>(), NullLogger<MissingTorchExceptionHandler>.Instance);
        return (await handler.TryHandleAsync(http, exception, CancellationToken.None), http);
    }

    [Fact]
    public async Task TryHandle_TorchSharpWithoutNatives_Answers503NamingThePathAndTheWorkerImage()
    {
        var (handled, http) = await HandleAsync(new AggregateException(TorchSharpWithoutNatives()));
        Assert.True(handled);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
        http.Response.Body.Position = 0;
        var problem = JsonNode.Parse(await new StreamReader(http.Response.Body).ReadToEndAsync())!;
        Assert.Equal(503, problem["status"]!.GetValue<int>());
        var detail = problem["detail"]!.GetValue<string>();
        Assert.StartsWith("POST /v1/models needs TorchSharp's native libraries", detail);
        Assert.Contains("Dockerfile target 'worker'", detail);
    }

    [Fact]
    public async Task TryHandle_OtherErrors_AreLeftToTheDefaultHandler()
    {
        var (handled, http) = await HandleAsync(new InvalidOperationException("something else"));
        Assert.False(handled);
        Assert.Equal(0, http.Response.Body.Length);
        Assert.False(NativeTorch.IsMissingNatives(new TypeInitializationException("Npgsql.NpgsqlConnection", null)));
        Assert.False(NativeTorch.IsMissingNatives(new NotSupportedException("this stream cannot seek")));
        Assert.True(NativeTorch.IsMissingNatives(new DllNotFoundException("Unable to load shared library 'LibTorchSharp'")));
    }

    [Fact]
    public void LoadProblem_InThisTestHost_WhichHasLibTorch_IsNull() => Assert.Null(NativeTorch.LoadProblem());
}
