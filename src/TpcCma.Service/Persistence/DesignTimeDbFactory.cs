using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace TpcCma.Service.Persistence;

/// <summary>Lets <c>dotnet ef</c> build the model without starting the service.</summary>
public sealed class DesignTimeDbFactory : IDesignTimeDbContextFactory<TrainingDb>
{
    public TrainingDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<TrainingDb>().UseNpgsql("Host=127.0.0.1;Database=design").Options);
}
