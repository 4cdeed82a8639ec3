using TpcCma.Training;

namespace TpcCma.Core.Tests.Training;

public class LrScheduleTests
{
    private static readonly LrSchedule Schedule = new(BaseLr: 1e-3, TotalSteps: 1001, WarmupSteps: 50);

    [Theory]
    [InlineData(0, null, 1e-3 / 50)]         // warm-up starts at lr / warmup
    [InlineData(24, null, 1e-3 * 25 / 50)]
    [InlineData(49, null, 1e-3)]             // warm-up ends at lr
    [InlineData(300, null, 1e-3)]            // constant through phases 1 and 2
    [InlineData(1000, null, 1e-3)]           // phase 3 never started: no decay
    [InlineData(500, 500L, 1e-3)]            // decay starts from lr
    [InlineData(750, 500L, 0.55e-3)]         // half way: (1 + 0.1) / 2 of lr
    [InlineData(1000, 500L, 1e-4)]           // the last step lands on 0.1 lr
    public void At_FollowsWarmupConstantCosine(long step, long? decayStart, double expected)
    {
        Assert.Equal(expected, Schedule.At(step, decayStart), 1e-12);
    }

    [Fact]
    public void At_DecaysMonotonically_DuringPhase3()
    {
        var lrs = Enumerable.Range(400, 601).Select(s => Schedule.At(s, 400)).ToList();
        Assert.All(lrs.Zip(lrs.Skip(1)), pair => Assert.True(pair.Second <= pair.First));
        Assert.Equal(1e-4, lrs[^1], 1e-12);
    }
}
