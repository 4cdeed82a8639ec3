namespace TpcCma.Service.Operations;

/// <summary>The <c>Operations</c> section: where operations run and how much of what they find is kept.</summary>
public sealed class OperationSettings
{
    public const string Section = "Operations";

    /// <summary>The Hangfire queue operations go to: one that the workers able to run them (TorchSharp, the hub) take from.</summary>
    public string Queue { get; set; } = "cpu";

    /// <summary>An operation started this many times without ending (its workers died) is failed rather than started again.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How many problems are kept with their locations; all of them are counted.</summary>
    public int MaxProblems { get; set; } = 100;

    public string? Problem() =>
        !Jobs.QueueNames.IsValid(Queue) ? $"Operations:Queue: {Jobs.QueueNames.Rule}"
        : MaxAttempts < 1 || MaxProblems < 1 ? "Operations: MaxAttempts and MaxProblems must be at least 1"
        : null;
}
