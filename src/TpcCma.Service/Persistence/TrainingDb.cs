using Microsoft.EntityFrameworkCore;

namespace TpcCma.Service.Persistence;

/// <summary>
/// The service's PostgreSQL database. Add a migration with
/// <c>dotnet ef migrations add NAME --project src/TpcCma.Service --output-dir Persistence/Migrations</c>.
/// </summary>
public sealed class TrainingDb(DbContextOptions<TrainingDb> options) : DbContext(options)
{
    public DbSet<TrainingJob> Jobs => Set<TrainingJob>();
    public DbSet<JobEvent> Events => Set<JobEvent>();
    public DbSet<MetricPoint> Metrics => Set<MetricPoint>();
    public DbSet<CheckpointRecord> Checkpoints => Set<CheckpointRecord>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<DatasetRecord> Datasets => Set<DatasetRecord>();
    public DbSet<ModelRecord> Models => Set<ModelRecord>();
    public DbSet<Sweep> Sweeps => Set<Sweep>();
    public DbSet<Operation> Operations => Set<Operation>();

    protected override void OnModelCreating(ModelBuilder model) => model.ApplyConfigurationsFromAssembly(typeof(TrainingDb).Assembly);
}
