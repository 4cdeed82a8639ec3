namespace TpcCma.Service.Persistence;

/// <summary>The same job run for several <c>alpha_target</c> values: how users choose their trade-off.</summary>
public sealed class Sweep
{
    public Guid Id { get; set; }
    public Guid? OwnerKeyId { get; set; }
    public string Name { get; set; } = "";
    /// <summary>The request's spec (jsonb) before <c>alpha_target</c> was set per job.</summary>
    public string Spec { get; set; } = "{}";
    public double[] AlphaTargets { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
}
