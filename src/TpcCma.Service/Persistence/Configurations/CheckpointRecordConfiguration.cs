using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TpcCma.Service.Persistence.Configurations;

public sealed class CheckpointRecordConfiguration : IEntityTypeConfiguration<CheckpointRecord>
{
    public void Configure(EntityTypeBuilder<CheckpointRecord> c)
    {
        c.ToTable("checkpoints");
        c.HasKey(x => x.Id);
        c.Property(x => x.Phase).HasMaxLength(32);
        c.Property(x => x.Sha256).HasMaxLength(64);
        c.HasIndex(x => new { x.JobId, x.Step }).IsUnique();
        c.HasOne<TrainingJob>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
