using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TpcCma.Service.Persistence.Configurations;

public sealed class OperationConfiguration : IEntityTypeConfiguration<Operation>
{
    public void Configure(EntityTypeBuilder<Operation> o)
    {
        o.ToTable("operations");
        o.HasKey(x => x.Id);
        o.Property(x => x.Kind).HasMaxLength(32);
        // Lower-case names, so the reconciler's SQL and the partial index below read as the API spells them.
        o.Property(x => x.State).HasConversion(s => s.Name(), s => OperationStateNames.Parse(s)).HasMaxLength(16);
        o.Property(x => x.Message).HasMaxLength(2000);
        o.Property(x => x.Input).HasColumnType("jsonb");
        o.Property(x => x.Result).HasColumnType("jsonb");
        o.Property(x => x.Errors).HasColumnType("jsonb");
        o.Property(x => x.Subject).HasMaxLength(200);
        o.Property(x => x.Queue).HasMaxLength(64);
        o.Property(x => x.Node).HasMaxLength(200);
        o.HasIndex(x => new { x.OwnerKeyId, x.CreatedAt });
        // Two requests for the same subject share the operation in flight instead of starting a second one.
        o.HasIndex(x => x.Subject).IsUnique().HasFilter("\"Subject\" IS NOT NULL AND \"State\" IN ('queued', 'running')");
        o.HasIndex(x => x.State);
    }
}
