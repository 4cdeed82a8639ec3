using TpcCma.Evaluation;

namespace TpcCma.Core.Tests.Evaluation;

/// <summary>Every case of refdata/metrics/cases.json (scikit-learn, pycocoevalcap, numpy/scipy) within its tolerance.</summary>
public class ReferenceCaseTests
{
    private static readonly Lazy<IReadOnlyList<MetricCase>> Cases =
        new(() => MetricCases.Load(RefData.Path("metrics", "cases.json")));

    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases.Value) data.Add(c.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Run_MatchesReference_ForCase(string id)
    {
        var metricCase = Cases.Value.Single(c => c.Id == id);
        Assert.NotNull(metricCase.Expected);

        var result = MetricCases.Run(metricCase);

        Assert.True(result.Pass, $"{id}: expected {metricCase.Expected!.ToJsonString()} within {metricCase.Tolerance}, got {result.Result.ToJsonString()}");
    }

    [Fact]
    public void Load_ReadsEveryKind_FromReferenceFile()
    {
        var kinds = Cases.Value.GroupBy(c => c.Kind).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(MetricCases.Kinds.Order(), kinds.Keys.Order());
        Assert.All(Cases.Value, c => Assert.True(c.Tolerance > 0, c.Id));
    }
}
