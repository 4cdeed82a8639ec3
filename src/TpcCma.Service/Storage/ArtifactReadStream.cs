namespace TpcCma.Service.Storage;

/// <summary>
/// A seekable read-only view of one stored artifact of known size: nothing is fetched until the first read, and a
/// seek drops the open request so the next read asks the store for the rest from there. This is what lets
/// ASP.NET's range processing (<c>Range: bytes=N-</c>) serve a resumed download straight from S3.
/// </summary>
public sealed class ArtifactReadStream(IArtifactStore store, string key, long length) : Stream
{
    private Stream? inner;
    private long position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            SeekOrigin.End => length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0 || target > length) throw new ArgumentOutOfRangeException(nameof(offset), target, $"position must be within '{key}' (0 to {length})");
        if (target != position)
        {
            inner?.Dispose();
            inner = null;
            position = target;
        }
        return position;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (position >= length || buffer.Length == 0) return 0;
        inner ??= await store.OpenReadAsync(key, position, ct: ct);
        var read = await inner.ReadAsync(buffer, ct);
        position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner?.Dispose();
        inner = null;
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (inner is not null) await inner.DisposeAsync();
        inner = null;
        await base.DisposeAsync();
    }
}
