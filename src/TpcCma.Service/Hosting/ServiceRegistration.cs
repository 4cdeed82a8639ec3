using System.Security.Claims;
using System.Threading.RateLimiting;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using TpcCma.Service.Api;
using TpcCma.Service.Auth;
using TpcCma.Service.Dashboard;
using TpcCma.Service.Jobs;
using TpcCma.Service.Operations;
using TpcCma.Service.Persistence;
using TpcCma.Service.Storage;
using TpcCma.Service.Telemetry;

namespace TpcCma.Service.Hosting;

/// <summary>Composition of the service: what each mode (api, worker, all) registers and maps.</summary>
public static class ServiceRegistration
{
    public static ServiceOptions AddTpcCmaServices(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var options = config.GetSection(ServiceOptions.Section).Get<ServiceOptions>() ?? new ServiceOptions();
        var hangfire = config.GetSection(HangfireSettings.Section).Get<HangfireSettings>() ?? new HangfireSettings();
        var leases = config.GetSection(LeaseSettings.Section).Get<LeaseSettings>() ?? new LeaseSettings();
        if (leases.Problem() is { } leaseProblem) throw new InvalidOperationException(leaseProblem);
        var connectionString = config.GetConnectionString("Jobs")
            ?? throw new InvalidOperationException("ConnectionStrings:Jobs is not set (appsettings.json or ConnectionStrings__Jobs)");
        var services = builder.Services;

        services.AddSingleton(options);
        // Every "now" of the service (leases, timestamps, the key cache, retry delays) comes from here; tests swap in a fake clock.
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new ArtifactPaths(ResolvePath(options.ArtifactRoot)));
        services.AddSingleton(config.GetSection(HubSettings.Section).Get<HubSettings>() ?? new HubSettings());
        services.AddSingleton<CheckpointExports>();

        // Checkpoints and datasets: a local folder or an S3-compatible bucket (Storage:Kind).
        services.AddArtifactStore(config);
        // Data set shards: local files, and s3:// objects with the same S3 settings.
        services.AddSingleton(_ => DatasetShardSources.From(config.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions()));

        services.AddDbContextFactory<TrainingDb>(o => o.UseNpgsql(connectionString));
        services.AddHostedService<DatabaseMigrator>();
        services.AddHostedService<AdminKeySeeder>();
        services.AddProblemDetails();
        services.AddExceptionHandler<MissingTorchExceptionHandler>();
        builder.AddRequestBodyLimits();
        services.AddMemoryCache();
        TimeProviderClock.Use(services);
        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyAuthenticationHandler.AdminRole, p => p.RequireRole(ApiKeyAuthenticationHandler.AdminRole));
        services.AddRateLimiter(o => ConfigureRateLimits(o, config));
        services.AddTpcCmaTelemetry(options);

        // Hangfire keeps its storage and log provider in process-wide statics and gives a host whatever storage the
        // static holds when the host first asks. Each host gets its own storage here, so that a process hosting the
        // service more than once (the tests run several side by side) never enqueues into another host's database.
        services.AddSingleton<JobStorage>(_ =>
        {
            var storageOptions = new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                PrepareSchemaIfNecessary = true,
                // LISTEN/NOTIFY wakes a worker within milliseconds; the short poll covers a dropped LISTEN connection.
                EnableLongPolling = true,
                QueuePollInterval = TimeSpan.FromSeconds(hangfire.QueuePollIntervalSeconds),
                // Sliding invisibility keeps a long training job from being fetched again while it still runs.
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = TimeSpan.FromMinutes(hangfire.InvisibilityTimeoutMinutes),
            };
            return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, storageOptions), storageOptions);
        });
        services.AddHangfire((provider, cfg) => cfg
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new HostLogProvider(provider.GetRequiredService<ILoggerFactory>()))
            .UseStorage(provider.GetRequiredService<JobStorage>()));
        services.AddTransient<TorchProbeJob>();
        services.AddTransient<TrainJob>();
        services.AddTransient<JobExecutor>();
        services.AddSingleton(leases);
        services.AddSingleton<JobLeases>();
        // Every node reconciles (API and worker alike): the database, not one process, decides what still has to run.
        services.AddHostedService<JobReconciler>();
        services.AddOperations(config);
        services.AddOperationHandler<DatasetValidationHandler>();

        if (options.RunsWorker)
        {
            // A worker started from the API image (no libtorch) stops here rather than failing every job it takes.
            if (NativeTorch.LoadProblem() is { } torchProblem)
                throw new InvalidOperationException($"--mode {options.Mode.ToString().ToLowerInvariant()} needs libtorch: {NativeTorch.MissingExplanation} ({torchProblem})");
            services.AddHangfireServer(o =>
            {
                o.ServerName = options.EffectiveNodeName;
                o.Queues = options.Queues;
                o.WorkerCount = options.WorkerCount;
                o.ShutdownTimeout = TimeSpan.FromSeconds(hangfire.ShutdownTimeoutSeconds);
            });
        }

        if (options.RunsApi)
        {
            services.AddEndpointsApiExplorer();
            services.AddSwaggerGen(o =>
            {
                o.SwaggerDoc("v1", new Microsoft.OpenApi.OpenApiInfo
                {
                    Title = "TPC-CMA Service",
                    Version = "v1",
                    Description = "Fine-tune CLIP-style models to close their modality gap with the TPC-CMA curriculum.",
                });
                var xml = Path.Combine(AppContext.BaseDirectory, "TpcCma.Service.xml");
                if (File.Exists(xml)) o.IncludeXmlComments(xml);
            });
        }
        return options;
    }

    public static void UseTpcCma(this WebApplication app, ServiceOptions options)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestBodyLimits();
        app.MapHealthApi();
        app.MapTpcCmaMetrics();
        if (!options.RunsApi) return;
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseSwagger();
        app.UseSwaggerUI(o => o.SwaggerEndpoint("/swagger/v1/swagger.json", "TPC-CMA Service v1"));
        app.UseHangfireDashboard("/hangfire", new DashboardOptions { Authorization = [new AdminDashboardAuthorization()], AppPath = "/" });
        app.MapDiagnosticsApi();
        app.MapKeysApi();
        app.MapJobsApi();
        app.MapJobProgressApi();
        app.MapCheckpointsApi();
        app.MapDatasetsApi();
        app.MapModelsApi();
        app.MapOperationsApi();
        app.MapSweepsApi();
        app.MapPlotsApi();
        app.MapDashboard();
    }

    /// <summary>A token bucket per API key (per address for anonymous calls); over the limit is 429 with Retry-After.</summary>
    private static void ConfigureRateLimits(Microsoft.AspNetCore.RateLimiting.RateLimiterOptions o, IConfiguration config)
    {
        var perSecond = config.GetValue("Auth:RequestsPerSecond", 200);
        var burst = config.GetValue("Auth:Burst", 400);
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
        {
            var who = http.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "ip:" + http.Connection.RemoteIpAddress;
            return RateLimitPartition.GetTokenBucketLimiter(who, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst, TokensPerPeriod = perSecond, ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0, AutoReplenishment = true,
            });
        });
        o.OnRejected = async (context, ct) =>
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            await Results.Problem(statusCode: 429, title: "Too many requests", detail: "this API key is over its rate limit; retry after a second")
                .ExecuteAsync(context.HttpContext);
        };
    }

    /// <summary>The Hangfire dashboard is for operators: admin keys only (header or the dashboard's cookie).</summary>
    private sealed class AdminDashboardAuthorization : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.IsAdmin();
    }

    /// <summary>Relative paths in settings are relative to the working directory the service was started from.</summary>
    private static string ResolvePath(string path) => Path.GetFullPath(path, Environment.CurrentDirectory);
}
