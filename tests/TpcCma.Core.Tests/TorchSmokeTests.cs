using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests;

public class TorchSmokeTests
{
    [Fact]
    public void LinearLayer_ForwardAndBackward_ProducesGradients()
    {
        torch.manual_seed(1);
        using var scope = NewDisposeScope();
        var layer = nn.Linear(4, 3);
        var x = randn(5, 4);
        var loss = layer.call(x).pow(2).mean();
        loss.backward();
        var grad = layer.weight!.grad!;
        Assert.Equal(new long[] { 3, 4 }, grad.shape);
        Assert.True(grad.abs().sum().item<float>() > 0);
    }
}
