using TpcCma.Evaluation.Captioning;

namespace TpcCma.Core.Tests.Evaluation;

public class MemoryProjectionTests
{
    [Fact]
    public void Project_ColdTemperature_LandsOnTheNearestMemoryEntry()
    {
        using var scope = NewDisposeScope();
        var memory = nn.functional.normalize(randn(50, 8, generator: new Generator(1).manual_seed(3)), dim: 1);
        var queries = memory.narrow(0, 10, 5) * 2 + 0.05 * randn(5, 8, generator: new Generator(1).manual_seed(4));   // near entries 10-14, unnormalised
        var projected = MemoryProjection.Project(queries, memory, temperature: 1e-4);
        Assert.True(projected.allclose(memory.narrow(0, 10, 5), rtol: 0, atol: 1e-4));
    }

    [Fact]
    public void Project_HotTemperature_ApproachesTheMemoryMean_AndIsUnitLength()
    {
        using var scope = NewDisposeScope();
        var memory = nn.functional.normalize(randn(50, 8, generator: new Generator(1).manual_seed(5)) + 1, dim: 1);
        var queries = randn(7, 8, generator: new Generator(1).manual_seed(6));
        var projected = MemoryProjection.Project(queries, memory, temperature: 1e6);
        var mean = nn.functional.normalize(memory.mean([0], keepdim: true), dim: 1).expand(7, 8);
        Assert.True(projected.allclose(mean, rtol: 0, atol: 1e-4));
        Assert.True(projected.norm(1).allclose(ones(7), rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Project_RefusesMismatchedWidthsAndBadTemperature()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => MemoryProjection.Project(randn(3, 8), randn(5, 4), 0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryProjection.Project(randn(3, 8), randn(5, 8), 0));
    }
}
