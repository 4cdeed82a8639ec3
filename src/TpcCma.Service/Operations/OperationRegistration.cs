namespace TpcCma.Service.Operations;

/// <summary>What every node registers for operations: the API side starts them, workers run them, every node reconciles.</summary>
public static class OperationRegistration
{
    public static IServiceCollection AddOperations(this IServiceCollection services, IConfiguration config)
    {
        var settings = config.GetSection(OperationSettings.Section).Get<OperationSettings>() ?? new OperationSettings();
        if (settings.Problem() is { } problem) throw new InvalidOperationException(problem);
        services.AddSingleton(settings);
        services.AddSingleton<OperationStore>();
        services.AddTransient<OperationStarter>();
        services.AddTransient<OperationRunner>();
        services.AddTransient<OperationJob>();
        services.AddHostedService<OperationReconciler>();
        services.AddOperationHandler<ModelImportHandler>();
        services.AddOperationHandler<CheckpointConversionHandler>();
        return services;
    }

    /// <summary>Registers the handler of one operation kind (<see cref="IOperationHandler.Kind"/>).</summary>
    public static IServiceCollection AddOperationHandler<THandler>(this IServiceCollection services) where THandler : class, IOperationHandler =>
        services.AddTransient<IOperationHandler, THandler>();
}
