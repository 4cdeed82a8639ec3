using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using TpcCma.Service.Hosting;

namespace TpcCma.Service.Telemetry;

/// <summary>Prometheus metrics through OpenTelemetry: HTTP server, .NET runtime and the service's own instruments.</summary>
public static class TelemetryRegistration
{
    public const string ScrapePath = "/metrics";

    public static void AddTpcCmaTelemetry(this IServiceCollection services, ServiceOptions options) =>
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("tpccma-service", serviceInstanceId: options.EffectiveNodeName))
            .WithMetrics(m => m
                .AddMeter(ServiceMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());

    /// <summary>
    /// Every mode serves <c>/metrics</c> without a key, like <c>/healthz</c>: scrapers run inside the cluster, and
    /// nothing there names a job, a key or a user. Expose it to the outside only behind the network's own controls.
    /// </summary>
    public static void MapTpcCmaMetrics(this WebApplication app) => app.MapPrometheusScrapingEndpoint(ScrapePath);
}
