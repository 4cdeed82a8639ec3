namespace TpcCma.Model;

/// <summary>
/// The dtype of a job's matrix products: float32 throughout, or bf16 autocast (parameters, optimiser state,
/// layer norms, softmax, loss and gradient-share norms stay float32; see <see cref="Autocast"/>).
/// </summary>
public enum Precision { Fp32, Bf16 }
