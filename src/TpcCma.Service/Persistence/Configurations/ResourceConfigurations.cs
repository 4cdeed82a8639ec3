using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TpcCma.Service.Persistence.Configurations;

public sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> k)
    {
        k.ToTable("api_keys");
        k.HasKey(x => x.Id);
        k.Property(x => x.Name).HasMaxLength(200);
        k.Property(x => x.Prefix).HasMaxLength(16);
        k.Property(x => x.Hash).HasMaxLength(64);
        k.HasIndex(x => x.Hash).IsUnique();
    }
}

public sealed class DatasetRecordConfiguration : IEntityTypeConfiguration<DatasetRecord>
{
    public void Configure(EntityTypeBuilder<DatasetRecord> d)
    {
        d.ToTable("datasets");
        d.HasKey(x => x.Id);
        d.Property(x => x.Name).HasMaxLength(200);
        d.Property(x => x.Source).HasMaxLength(16);
        d.Property(x => x.Report).HasColumnType("jsonb");
        d.HasIndex(x => new { x.OwnerKeyId, x.CreatedAt });
    }
}

public sealed class ModelRecordConfiguration : IEntityTypeConfiguration<ModelRecord>
{
    public void Configure(EntityTypeBuilder<ModelRecord> m)
    {
        m.ToTable("models");
        m.HasKey(x => x.Id);
        m.Property(x => x.Name).HasMaxLength(200);
        m.Property(x => x.Source).HasMaxLength(16);
        m.HasIndex(x => new { x.OwnerKeyId, x.CreatedAt });
        m.HasIndex(x => x.JobId);
    }
}

public sealed class SweepConfiguration : IEntityTypeConfiguration<Sweep>
{
    public void Configure(EntityTypeBuilder<Sweep> s)
    {
        s.ToTable("sweeps");
        s.HasKey(x => x.Id);
        s.Property(x => x.Name).HasMaxLength(200);
        s.Property(x => x.Spec).HasColumnType("jsonb");
        s.HasIndex(x => new { x.OwnerKeyId, x.CreatedAt });
    }
}
