using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using TpcCma.Service.Hosting;

namespace TpcCma.Service.Api;

/// <summary>The <c>Api</c> section: the largest request body a JSON endpoint reads.</summary>
public sealed class ApiBodySettings
{
    public const string Section = "Api";

    /// <summary>Every endpoint but the dataset archive upload (see <see cref="DatasetSettings.MaxUploadBytes"/>).</summary>
    public long MaxJsonBodyBytes { get; set; } = 1 << 20;
}

/// <summary>Marks an endpoint whose body is a dataset archive: it gets <see cref="DatasetSettings.MaxUploadBytes"/>.</summary>
public sealed class ArchiveUploadBody
{
    public static ArchiveUploadBody Instance { get; } = new();
}

/// <summary>
/// Request body limits that hold on every server: a declared Content-Length over the endpoint's limit is refused
/// before the endpoint runs, and a body without one (chunked) is counted as it is read and refused once it passes
/// the limit. Both answer 413 with a ProblemDetails naming the limit and its setting. Kestrel gets the same
/// limit per request, so its own check agrees.
/// </summary>
public static class RequestBodyLimits
{
    public static void AddRequestBodyLimits(this WebApplicationBuilder builder)
    {
        var api = builder.Configuration.GetSection(ApiBodySettings.Section).Get<ApiBodySettings>() ?? new ApiBodySettings();
        var datasets = builder.Configuration.GetSection(DatasetSettings.Section).Get<DatasetSettings>() ?? new DatasetSettings();
        if (api.MaxJsonBodyBytes <= 0) throw new InvalidOperationException($"Api:MaxJsonBodyBytes must be positive, got {api.MaxJsonBodyBytes}");
        datasets.Validate();
        builder.Services.AddSingleton(api);
        builder.Services.AddSingleton(datasets);
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.WebHost.ConfigureKestrel(o => o.Limits.MaxRequestBodySize = api.MaxJsonBodyBytes);
    }

    /// <summary>Place after the exception handler and before anything that reads a body.</summary>
    public static IApplicationBuilder UseRequestBodyLimits(this IApplicationBuilder app) => app.UseMiddleware<LimitMiddleware>();

    private sealed class LimitMiddleware(RequestDelegate next, ApiBodySettings api, DatasetSettings datasets)
    {
        public async Task InvokeAsync(HttpContext context)
        {
            var limit = context.GetEndpoint()?.Metadata.GetMetadata<ArchiveUploadBody>() is null
                ? new Limit(api.MaxJsonBodyBytes, "Api:MaxJsonBodyBytes")
                : new Limit(datasets.MaxUploadBytes, "Datasets:MaxUploadBytes");
            var request = context.Request;
            if (request.ContentLength > limit.Bytes)
            {
                await WriteTooLargeAsync(context, limit, $"the body declares {request.ContentLength} bytes");
                return;
            }
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } server) server.MaxRequestBodySize = limit.Bytes;
            if (request.ContentLength is not null || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
            {
                await next(context);   // the server holds a declared body to its length; a GET has none
                return;
            }
            var original = request.Body;
            var counted = new CountingStream(original, limit);
            request.Body = counted;
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
            {
                await WriteTooLargeAsync(context, limit, "the body grew past it");
                return;
            }
            finally
            {
                request.Body = original;
            }
            // Minimal APIs treat a failed body read as a dropped connection and answer nothing: say what happened.
            if (counted.Exceeded && !context.Response.HasStarted) await WriteTooLargeAsync(context, limit, "the body grew past it");
        }

        private static Task WriteTooLargeAsync(HttpContext context, Limit limit, string why)
        {
            context.Response.Clear();
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large",
                detail: $"this endpoint takes at most {limit.Bytes} bytes ({limit.Setting}); {why}").ExecuteAsync(context);
        }
    }

    private sealed record Limit(long Bytes, string Setting);

    /// <summary>
    /// Passes reads through and throws a 413 <see cref="BadHttpRequestException"/> once more than the limit was read;
    /// <see cref="Exceeded"/> also notes the server's own 413 (Kestrel counts the same limit underneath).
    /// </summary>
    private sealed class CountingStream(Stream inner, Limit limit) : Stream
    {
        private long read;

        public bool Exceeded { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try { return Count(inner.Read(buffer)); }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge) { Exceeded = true; throw; }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            try { return Count(await inner.ReadAsync(buffer, ct)); }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge) { Exceeded = true; throw; }
        }

        private int Count(int bytes)
        {
            read += bytes;
            if (read <= limit.Bytes) return bytes;
            throw new BadHttpRequestException($"request body is larger than {limit.Bytes} bytes ({limit.Setting})", StatusCodes.Status413PayloadTooLarge);
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A request the server refused while it was read (too large, malformed framing, too slow): its own status, not 500.</summary>
    private sealed class BadRequestExceptionHandler : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
        {
            if (exception is not BadHttpRequestException bad || context.Response.HasStarted) return false;
            await Results.Problem(statusCode: bad.StatusCode, title: ReasonPhrases.GetReasonPhrase(bad.StatusCode), detail: bad.Message).ExecuteAsync(context);
            return true;
        }
    }
}
