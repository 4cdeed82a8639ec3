using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TpcCma.Training;

/// <summary>
/// TorchSharp's AdamW, same update and same state (so checkpoints are unchanged), with every scalar held until the
/// native call that reads it has returned. TorchSharp's own step (0.107) passes plain doubles, which become
/// <see cref="Scalar"/> objects whose handle is read and the object then dropped: the garbage collector may finalize
/// one while libtorch is still reading it, and libtorch then reads freed memory (seen as
/// <c>Expected false to be true ... toDouble at c10/core/Scalar.h</c> from <c>AdamW.step</c> under load, and possibly
/// as a wrong decay or step size without any error). The optimizer makes about ten such scalars per parameter per step,
/// far more than any other code here, so this is where the race showed. TorchSharp's fix (dotnet/TorchSharp#1434) is
/// not released. amsgrad and maximize, which no run uses, are refused rather than reimplemented.
/// </summary>
public sealed class ScalarSafeAdamW : AdamW
{
    public ScalarSafeAdamW(IEnumerable<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay)
        : base(groups, lr, beta1, beta2, eps, weightDecay) { }

    public ScalarSafeAdamW(IEnumerable<Parameter> parameters, double lr, double weightDecay)
        : base(parameters, lr, weight_decay: weightDecay) { }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        if (options.amsgrad == true || options.maximize == true)
            throw new NotSupportedException("ScalarSafeAdamW implements plain AdamW: amsgrad and maximize are not supported");
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, eps = options.eps!.Value, lr = options.LearningRate!.Value;
        using var decay = (1 - lr * options.weight_decay!.Value).ToScalar();
        using var beta1Scalar = beta1.ToScalar();
        using var oneMinusBeta1 = (1 - beta1).ToScalar();
        using var beta2Scalar = beta2.ToScalar();
        using var oneMinusBeta2 = (1 - beta2).ToScalar();
        using var epsScalar = eps.ToScalar();
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            state.step += 1;
            param.mul_(decay);
            var biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            var biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            state.exp_avg.mul_(beta1Scalar).add_(grad, alpha: oneMinusBeta1);
            state.exp_avg_sq.mul_(beta2Scalar).addcmul_(grad, grad, value: oneMinusBeta2);
            using var sqrtCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
            using var stepSize = (-lr / biasCorrection1).ToScalar();
            using var denom = state.exp_avg_sq.sqrt().div_(sqrtCorrection2).add_(epsScalar);
            param.addcdiv_(state.exp_avg, denom, value: stepSize);
        }
    }, closure);
}
