using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace TpcCma.Service.Hosting;

/// <summary>
/// A request that reached TorchSharp on a node without libtorch (the API image) answers 503 with a ProblemDetails that
/// says so, instead of a bare 500 whose log blames a missing NuGet package. No request path of the API should need
/// libtorch; this is the safety net that names the path if one still does.
/// </summary>
public sealed class MissingTorchExceptionHandler(IProblemDetailsService problems, ILogger<MissingTorchExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (!NativeTorch.IsMissingNatives(exception)) return false;
        var path = $"{http.Request.Method} {http.Request.Path}";
        log.LogError(exception, "{Path} needs libtorch, which this node does not have: {Explanation}", path, NativeTorch.MissingExplanation);
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "This API node cannot run TorchSharp",
                Detail = $"{path} needs TorchSharp's native libraries on the API node; {NativeTorch.MissingExplanation}",
            },
        });
    }
}
