namespace TpcCma.Service.Hosting;

/// <summary>Which roles this process plays: the HTTP API, a Hangfire worker, or both (the local default).</summary>
public enum ServiceMode { Api, Worker, All }

/// <summary>The <c>Service</c> section of appsettings.json (environment variables override: <c>Service__Mode=worker</c>).</summary>
public sealed class ServiceOptions
{
    public const string Section = "Service";

    public ServiceMode Mode { get; set; } = ServiceMode.All;

    /// <summary>Name of this node in Hangfire's server list and in job leases; defaults to host name and process id.</summary>
    public string NodeName { get; set; } = "";

    /// <summary>Queues this worker takes jobs from: one per device kind (<c>cpu</c>, <c>gpu</c>, <c>h200</c>...).</summary>
    public string[] Queues { get; set; } = ["cpu"];

    /// <summary>Concurrent jobs on this worker: one per device it owns.</summary>
    public int WorkerCount { get; set; } = 1;

    /// <summary>The CUDA device this worker trains on when one is present (one worker process per GPU).</summary>
    public int DeviceIndex { get; set; }

    /// <summary>The precision on CUDA of a job whose spec names none (true: bf16 autocast); on CPU such a job trains in float32.</summary>
    public bool Bf16 { get; set; } = true;

    public string DataRoot { get; set; } = ".local/data";

    /// <summary>Byte budget, in MiB, of each training job's in-memory cache of preprocessed images (0 turns it off).</summary>
    public int LoaderMemoryCacheMiB { get; set; } = 2048;

    public string ArtifactRoot { get; set; } = ".local/artifacts";

    public bool RunsApi => Mode is ServiceMode.Api or ServiceMode.All;

    public bool RunsWorker => Mode is ServiceMode.Worker or ServiceMode.All;

    public string EffectiveNodeName => string.IsNullOrWhiteSpace(NodeName) ? $"{Environment.MachineName}:{Environment.ProcessId}" : NodeName;
}

/// <summary>The <c>Hangfire</c> section: polling and fetch-timeout settings of the PostgreSQL storage.</summary>
public sealed class HangfireSettings
{
    public const string Section = "Hangfire";

    /// <summary>Fallback poll; LISTEN/NOTIFY normally wakes workers at once, but its connection is not re-opened after a drop.</summary>
    public double QueuePollIntervalSeconds { get; set; } = 1;

    /// <summary>With sliding invisibility this is how long a dead worker's job stays invisible before another takes it.</summary>
    public double InvisibilityTimeoutMinutes { get; set; } = 5;

    public double ShutdownTimeoutSeconds { get; set; } = 30;
}
