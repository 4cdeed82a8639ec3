namespace TpcCma.Service.Operations;

/// <summary>An operation failed for the reason in the message, written for the user; Hangfire records it Failed too.</summary>
public sealed class OperationFailedException(string message, Exception? inner = null) : Exception(message, inner);
