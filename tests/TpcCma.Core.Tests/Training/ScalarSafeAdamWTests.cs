using TorchSharp.Modules;

namespace TpcCma.Core.Tests.Training;

public class ScalarSafeAdamWTests
{
    private const double Lr = 3e-3, Beta1 = 0.9, Beta2 = 0.98, Eps = 1e-6, Decay = 0.2;

    [Fact]
    public void Step_GivesTheSameWeightsAndStateBitForBit_AsTorchSharpsAdamW()
    {
        var (ours, oursWeights) = Run((decay, plain) => new ScalarSafeAdamW(Groups(decay, plain), Lr, Beta1, Beta2, Eps, Decay));
        var (theirs, theirsWeights) = Run((decay, plain) => optim.AdamW(Groups(decay, plain), Lr, Beta1, Beta2, Eps, Decay));
        using (ours)
        using (theirs)
        {
            for (var i = 0; i < oursWeights.Count; i++)
                Assert.True(Same(oursWeights[i], theirsWeights[i]), $"weight {i} differs after 7 steps");
            var ourState = ours.state_dict().State.Cast<AdamW.State>().ToList();
            var theirState = theirs.state_dict().State.Cast<AdamW.State>().ToList();
            Assert.Equal(theirState.Select(s => s.step), ourState.Select(s => s.step));
            Assert.All(ourState.Zip(theirState), p =>
            {
                Assert.True(Same(p.First.exp_avg, p.Second.exp_avg));
                Assert.True(Same(p.First.exp_avg_sq, p.Second.exp_avg_sq));
            });
        }
    }

    [Fact]
    public void Amsgrad_IsRefused_NotSilentlyIgnored()
    {
        var weight = nn.Parameter(ones(3));
        var group = new AdamW.ParamGroup([weight], new AdamW.Options { amsgrad = true });
        using var optimizer = new ScalarSafeAdamW([group], Lr, Beta1, Beta2, Eps, Decay);
        weight.sum().backward();
        Assert.Contains("amsgrad", Assert.Throws<NotSupportedException>(() => optimizer.step()).Message);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static List<AdamW.ParamGroup> Groups(Parameter decay, Parameter plain) =>
        [new([decay], Lr, Beta1, Beta2, Eps, Decay), new([plain], Lr, Beta1, Beta2, Eps, 0.0)];

    /// <summary>Seven steps of a small regression on two parameters, one decayed and one not; returns the weights.</summary>
    private static (AdamW Optimizer, List<Tensor> Weights) Run(Func<Parameter, Parameter, AdamW> create)
    {
        var generator = new Generator(5);
        var decay = nn.Parameter(randn([4, 3], generator: generator));
        var plain = nn.Parameter(randn([3], generator: generator));
        var x = randn([8, 4], generator: generator);
        var y = randn([8, 3], generator: generator);
        var optimizer = create(decay, plain);
        for (var step = 0; step < 7; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            (x.matmul(decay) + plain - y).pow(2).mean().backward();
            optimizer.step();
        }
        return (optimizer, [decay, plain]);
    }
}
