using Microsoft.EntityFrameworkCore;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Hosting;

/// <summary>
/// Applies pending EF migrations before anything else starts. EF takes a database lock while migrating, so
/// an API and a worker starting together cannot both apply the same migration.
/// </summary>
public sealed class DatabaseMigrator(IDbContextFactory<TrainingDb> dbs) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        await db.Database.MigrateAsync(ct);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
