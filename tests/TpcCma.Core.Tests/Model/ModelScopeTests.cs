using TorchSharp;
using TpcCma.Core.Tests.Training;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Model;

/// <summary>
/// The model's modules free their intermediates when each forward returns (their own dispose scopes), so a caller
/// that encodes many batches under no_grad holds only the outputs, not every block's activations, until its scope ends.
/// </summary>
public sealed class ModelScopeTests
{
    [Fact]
    public void Forward_LeavesOnlyItsOutputsLive_NoGrad()
    {
        using var threads = TrainerFixtures.SingleThread();
        using var model = TrainerFixtures.Model(3);
        using var batches = TrainerFixtures.Batches(pool: 8, batch: 8);
        using var scope = NewDisposeScope();
        var batch = batches.Batch(0);
        using var noGrad = no_grad();

        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var output = model.call(batch.Pixels, batch.TokenIds);
        var added = DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;

        Assert.Equal(3, added);   // image and text embeddings and the logit scale
        Assert.Equal([8L, 16L], output.ImageFeatures.shape);
    }
}
