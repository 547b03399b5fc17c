using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Mopt.Frontend.Onnx;

/// <summary>
/// A file as a <see cref="ReadOnlySequence{T}"/> of 64 KiB windows that read into one shared buffer when the parser
/// reaches them: protobuf then copies each tensor once, into an array of its own size, and the file is never
/// held whole in memory (a 47 MB model costs 47 MB, not 94). It relies on the parser visiting each segment once,
/// in order, as Google.Protobuf's sequence reader does.
/// </summary>
internal static class FileWindowSequence
{
    public static ReadOnlySequence<byte> Open(SafeFileHandle file, long length, int window = 1 << 16)
    {
        if (length == 0) return ReadOnlySequence<byte>.Empty;
        var shared = new byte[(int)Math.Min(window, length)];
        Segment? first = null, last = null;
        for (long at = 0; at < length; at += window)
        {
            int n = (int)Math.Min(window, length - at);
            var segment = new Segment(new Window(file, at, n, shared).Memory, at);
            if (first is null) first = segment;
            else last!.SetNext(segment);
            last = segment;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Window(SafeFileHandle file, long offset, int length, byte[] shared) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan()
        {
            int done = 0;
            while (done < length)
            {
                int n = RandomAccess.Read(file, shared.AsSpan(done, length - done), offset + done);
                if (n <= 0) throw new IOException($"the file ended {length - done} bytes early while reading it");
                done += n;
            }
            return shared.AsSpan(0, length);
        }

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("file windows are read, not pinned");
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
