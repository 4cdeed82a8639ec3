using System.Text.Json;
using System.Threading.Channels;
using TpcCma.Training;

namespace TpcCma.Bench.Training;

/// <summary>
/// The training-thread side of the service's progress writer: every callback is one non-blocking write to an
/// unbounded channel, and a background task serialises what arrives to JSON, as the writer does before it
/// sends a batch to PostgreSQL. Only the database round trip is left out.
/// </summary>
internal sealed class ChannelObserver : ITrainingObserver, IDisposable
{
    private readonly Channel<object> channel = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task drain;

    public ChannelObserver() => drain = Task.Run(async () =>
    {
        await foreach (var item in channel.Reader.ReadAllAsync()) { BytesSerialised += JsonSerializer.SerializeToUtf8Bytes(item).Length; Items++; }
    });

    public long Items { get; private set; }
    public long BytesSerialised { get; private set; }

    public void OnEvent(TrainingEvent trainingEvent) => channel.Writer.TryWrite(trainingEvent);

    public void OnMetrics(long step, IReadOnlyDictionary<string, double> metrics) =>
        channel.Writer.TryWrite(new { step, values = metrics.Where(m => double.IsFinite(m.Value)).ToDictionary() });

    public void OnCheckpoint(CheckpointInfo checkpoint) => channel.Writer.TryWrite(checkpoint);

    public void Dispose()
    {
        channel.Writer.TryComplete();
        drain.Wait();
    }
}
