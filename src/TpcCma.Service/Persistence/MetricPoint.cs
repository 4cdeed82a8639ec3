namespace TpcCma.Service.Persistence;

/// <summary>One value of one named curve at one step. Unique per (job, name, step): a replay after resume overwrites.</summary>
public sealed class MetricPoint
{
    public Guid JobId { get; set; }
    public string Name { get; set; } = "";
    public long Step { get; set; }
    public double Value { get; set; }
}
