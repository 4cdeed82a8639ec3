using TpcCma.Curriculum;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>The typed event kinds and phases keep the names that the database, the REST API and the dashboard carry.</summary>
public sealed class JobEventKindTests
{
    /// <summary>Every kind, in declaration order, with the name it is stored and served under: a kind renamed or added fails here.</summary>
    [Fact]
    public void Name_IsTheWireName_AndParsesBack()
    {
        const string expected = "status requeued fetched started resumed phase cancelled handed_back diverged completed checkpoint evaluation skipped";
        var kinds = Enum.GetValues<JobEventKind>();
        Assert.Equal(expected, string.Join(' ', kinds.Select(k => k.Name())));
        Assert.All(kinds, kind => Assert.Equal(kind, JobEventKinds.Parse(kind.Name())));
    }

    [Fact]
    public void Parse_UnknownName_SaysWhichName() =>
        Assert.Contains("'stauts'", Assert.Throws<InvalidDataException>(() => JobEventKinds.Parse("stauts")).Message);

    [Theory]
    [InlineData("started", JobEventKind.Started)]
    [InlineData("resumed", JobEventKind.Resumed)]
    [InlineData("phase", JobEventKind.Phase)]
    [InlineData("cancelled", JobEventKind.Cancelled)]
    [InlineData("diverged", JobEventKind.Diverged)]
    [InlineData("completed", JobEventKind.Completed)]
    public void FromTrainer_MapsEveryKindTheTrainerReports(string trainerKind, JobEventKind kind) =>
        Assert.Equal(kind, JobEventKinds.FromTrainer(trainerKind));

    [Theory]
    [InlineData("status")]       // a kind of the service's own, never the trainer's
    [InlineData("exploded")]
    public void FromTrainer_AnyOtherKind_IsAnErrorNamingIt(string trainerKind) =>
        Assert.Contains($"'{trainerKind}'", Assert.Throws<InvalidOperationException>(() => JobEventKinds.FromTrainer(trainerKind)).Message);

    [Theory]
    [InlineData(TrainingPhase.Anchor, "anchor")]
    [InlineData(TrainingPhase.Ramp, "ramp")]
    [InlineData(TrainingPhase.Consolidate, "consolidate")]
    public void PhaseName_IsTheWireName(TrainingPhase phase, string name) => Assert.Equal(name, phase.Name());
}
