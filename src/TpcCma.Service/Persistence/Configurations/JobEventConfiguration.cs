using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TpcCma.Service.Persistence.Configurations;

public sealed class JobEventConfiguration : IEntityTypeConfiguration<JobEvent>
{
    public void Configure(EntityTypeBuilder<JobEvent> e)
    {
        e.ToTable("job_events");
        e.HasKey(x => x.Id);
        e.Property(x => x.Id).UseIdentityAlwaysColumn();
        e.Property(x => x.Kind).HasMaxLength(32);
        e.Property(x => x.Data).HasColumnType("jsonb");
        e.HasIndex(x => new { x.JobId, x.Id });
        e.HasOne<TrainingJob>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
