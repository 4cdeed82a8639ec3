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
        // Stored as its snake_case name, as before the kinds were typed: the column and every row stay as they are.
        e.Property(x => x.Kind).HasMaxLength(32).HasConversion(k => k.Name(), s => JobEventKinds.Parse(s));
        e.Property(x => x.Data).HasColumnType("jsonb");
        e.HasIndex(x => new { x.JobId, x.Id });
        e.HasOne<TrainingJob>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
