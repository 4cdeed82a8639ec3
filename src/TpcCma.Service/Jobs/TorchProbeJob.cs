using Hangfire;
using TorchSharp;
using static TorchSharp.torch;

namespace TpcCma.Service.Jobs;

/// <summary>What a probe found on the worker that ran it.</summary>
public sealed record ProbeResult(string Worker, string Device, double EnqueueToStartMs, double Loss, double GradNorm);

/// <summary>
/// A few milliseconds of real work on a worker: proves a worker is alive, can run TorchSharp on its device,
/// and shows the queue's enqueue-to-start latency. Operators use it after deploying a node.
/// </summary>
public sealed class TorchProbeJob(TimeProvider time)
{
    [AutomaticRetry(Attempts = 0), JobDisplayName("probe torch")]
    public ProbeResult Run(DateTimeOffset enqueuedAt)
    {
        var latency = (time.GetUtcNow() - enqueuedAt).TotalMilliseconds;
        var device = cuda.is_available() ? CUDA : CPU;
        using var scope = NewDisposeScope();
        using var grad = enable_grad();   // autograd mode is per thread: never inherit a pool thread's setting
        var generator = new Generator(seed: 7, device: device);
        var layer = nn.Linear(16, 4).to(device);
        var x = randn([8, 16], generator: generator, device: device);
        var loss = layer.call(x).pow(2).mean();
        loss.backward();
        var gradNorm = layer.parameters().Select(p => p.grad!.pow(2).sum()).Aggregate((a, b) => a + b).sqrt();
        return new ProbeResult($"{Environment.MachineName}:{Environment.ProcessId}", device.ToString(), latency,
            loss.item<float>(), gradNorm.item<float>());
    }
}
