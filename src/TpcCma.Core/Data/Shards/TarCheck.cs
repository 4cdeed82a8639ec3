using System.Text;

namespace TpcCma.Data.Shards;

/// <summary>
/// Checks that .NET's <see cref="System.Formats.Tar.TarReader"/> cannot make: it reports the end of the archive
/// both for a file that is not a tar (a header block with a wrong checksum) and for garbage in place of a later
/// header, which would silently lose the rest of a shard.
/// </summary>
internal static class TarCheck
{
    private const int Block = 512;

    /// <summary>The shard's stream, after checking that its first block is a tar header (or the zero block of an empty tar).</summary>
    public static Stream Open(Stream stream, ShardRef shard)
    {
        var first = new byte[Block];
        var read = stream.ReadAtLeast(first, Block, throwOnEndOfStream: false);
        if (read == 0) throw new ShardReadException(shard.Name, null, DatasetErrorKind.CorruptShard, "the shard is empty (0 bytes)");
        if (read < Block || !(first.All(b => b == 0) || ChecksumMatches(first)))
            throw new ShardReadException(shard.Name, null, DatasetErrorKind.CorruptShard, "the shard is not a tar file (its first block is no tar header)");
        return new ReplayStream(first, stream);
    }

    /// <summary>After the reader's end of archive, only zero blocks may follow.</summary>
    public static void RequireOnlyPadding(Stream stream, ShardRef shard, string? lastMember)
    {
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            if (buffer.AsSpan(0, n).IndexOfAnyExcept((byte)0) >= 0)
                throw new ShardReadException(shard.Name, lastMember, DatasetErrorKind.CorruptShard,
                    lastMember is null ? "the shard is not a tar file" : "the shard is corrupt after this member (a header block is unreadable)");
    }

    /// <summary>POSIX header checksum: the byte sum of the block with the checksum field (148..155) read as spaces.</summary>
    private static bool ChecksumMatches(byte[] header)
    {
        var text = Encoding.ASCII.GetString(header, 148, 8).Trim('\0', ' ');
        if (text.Length == 0 || !text.All(c => c is >= '0' and <= '7')) return false;
        long expected = Convert.ToInt64(text, 8), sum = 0;
        for (var i = 0; i < Block; i++) sum += i is >= 148 and < 156 ? (byte)' ' : header[i];
        return sum == expected;
    }

    /// <summary>A forward-only stream that first replays bytes already read, then continues with the inner stream.</summary>
    private sealed class ReplayStream(byte[] prefix, Stream inner) : Stream
    {
        private int offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int bufferOffset, int count) => Read(buffer.AsSpan(bufferOffset, count));

        public override int Read(Span<byte> buffer)
        {
            if (offset < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - offset);
                prefix.AsSpan(offset, n).CopyTo(buffer);
                offset += n;
                return n;
            }
            return inner.Read(buffer);
        }

        public override void Flush() { }
        public override long Seek(long o, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int o, int count) => throw new NotSupportedException();
    }
}
