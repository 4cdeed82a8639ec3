using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TpcCma.Service.Persistence.Configurations;

public sealed class MetricPointConfiguration : IEntityTypeConfiguration<MetricPoint>
{
    public void Configure(EntityTypeBuilder<MetricPoint> m)
    {
        m.ToTable("metrics");
        m.HasKey(x => new { x.JobId, x.Name, x.Step });
        m.Property(x => x.Name).HasMaxLength(64);
        m.HasOne<TrainingJob>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
