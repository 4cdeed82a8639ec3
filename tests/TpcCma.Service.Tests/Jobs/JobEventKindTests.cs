using TpcCma.Curriculum;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Tests.Jobs;

/// <summary>The typed event kinds and phases keep the names that the database, the REST API and the dashboard carry.</summary>
public sealed class JobEventKindTests
{
    [Theory]
    [InlineData(JobEventKind.Status, "status")]
    [InlineData(JobEventKind.Requeued, "requeued")]
    [InlineData(JobEventKind.Fetched, "fetched")]
    [InlineData(JobEventKind.Started, "started")]
    [InlineData(JobEventKind.Resumed, "resumed")]
    [InlineData(JobEventKind.Phase, "phase")]
    [InlineData(JobEventKind.Cancelled, "cancelled")]
    [InlineData(JobEventKind.HandedBack, "handed_back")]
    [InlineData(JobEventKind.Diverged, "diverged")]
    [InlineData(JobEventKind.Completed, "completed")]
    [InlineData(JobEventKind.Skipped, "skipped")]
    [InlineData(JobEventKind.Checkpoint, "checkpoint")]
    [InlineData(JobEventKind.Evaluation, "evaluation")]
    public void Name_IsTheWireName_AndParsesBack(JobEventKind kind, string name)
    {
        Assert.Equal(name, kind.Name());
        Assert.Equal(kind, JobEventKinds.Parse(name));
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
