namespace TpcCma.Service.Operations;

/// <summary>The kinds of operation; each has one <see cref="IOperationHandler"/> registered on the workers.</summary>
public static class OperationKinds
{
    /// <summary>Download a hub model (<c>hf:</c> reference), load it once to check it, register it.</summary>
    public const string ModelImport = "model-import";

    /// <summary>Convert a checkpoint to a Hugging Face folder (tar) for download.</summary>
    public const string CheckpointConversion = "checkpoint-conversion";

    /// <summary>Check every record of a data set and report the problems found.</summary>
    public const string DatasetValidation = "dataset-validation";
}
