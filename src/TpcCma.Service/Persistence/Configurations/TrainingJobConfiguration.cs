using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TpcCma.Service.Persistence.Configurations;

public sealed class TrainingJobConfiguration : IEntityTypeConfiguration<TrainingJob>
{
    public void Configure(EntityTypeBuilder<TrainingJob> job)
    {
        job.ToTable("jobs");
        job.HasKey(j => j.Id);
        job.Property(j => j.Name).HasMaxLength(200);
        job.Property(j => j.Kind).HasMaxLength(32);
        job.Property(j => j.Queue).HasMaxLength(64);
        job.Property(j => j.Spec).HasColumnType("jsonb");
        job.Property(j => j.Result).HasColumnType("jsonb");
        job.Property(j => j.Run).HasColumnType("jsonb");
        job.Property(j => j.Status).HasConversion<string>().HasMaxLength(16);
        job.Property(j => j.Phase).HasMaxLength(32);
        job.Property(j => j.IdempotencyKey).HasMaxLength(200);
        job.HasIndex(j => new { j.OwnerKeyId, j.IdempotencyKey }).IsUnique().HasFilter("\"IdempotencyKey\" IS NOT NULL");
        job.HasIndex(j => new { j.OwnerKeyId, j.CreatedAt });
        // Optimistic concurrency on PostgreSQL's row version: lease and status changes never overwrite each other.
        job.Property<uint>("Version").IsRowVersion();
    }
}
