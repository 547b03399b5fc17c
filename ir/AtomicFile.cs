using System.Buffers;
using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>Writes a file so that it is either complete or not there: a temporary file, then a rename.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes to the stream <see cref="Write"/> hands out of at least this many bytes go to the file as they are, after
    /// what it has buffered (a writer that can hand its large payloads over whole need not copy them into a buffer).
    /// </summary>
    public const int DirectWriteBytes = 1 << 16;

    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var temp = TempPath(full);
        bool moved = false;
        try
        {
            using (var stream = CreateTemp(path, temp))
                write(stream);
            Replace(temp, full);
            moved = true;
        }
        catch (IOException e)
        {
            throw new MirException($"cannot write '{path}': {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new MirException($"cannot write '{path}': {e.Message}");
        }
        finally
        {
            // Once renamed the temporary is gone: no need to ask the file system again.
            if (!moved && File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes every file to a temporary first and renames them only when all were written (none on error).</summary>
    public static void WriteAll(IReadOnlyList<(string Path, Action<Stream> Write)> files)
    {
        var temps = new List<(string Temp, string Full, string Path)>();
        bool moved = false;
        try
        {
            foreach (var (path, write) in files)
            {
                var full = Path.GetFullPath(path);
                var temp = TempPath(full);
                try
                {
                    using var stream = CreateTemp(path, temp);
                    temps.Add((temp, full, path));
                    write(stream);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot write '{path}': {e.Message}"); }
            }
            foreach (var (temp, full, path) in temps)
            {
                try { Replace(temp, full); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot write '{path}': {e.Message}"); }
            }
            moved = true;
        }
        finally
        {
            // After every rename no temporary is left; on an error the ones written (or half-renamed) go.
            if (!moved)
                foreach (var (temp, _, _) in temps)
                    if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Puts the temporary in the target's place: on Linux rename(2) itself, which is what File.Move(overwrite: true) ends
    /// in, without the two stat calls it makes first (whether the source exists: it was just written; whether the target
    /// is a folder: rename refuses that itself), two of a small net's ~20 system calls.
    /// </summary>
    private static void Replace(string temp, string full)
    {
        if (!OperatingSystem.IsLinux())
        {
            File.Move(temp, full, overwrite: true);
            return;
        }
        if (Libc.Rename(temp, full) != 0) throw new IOException($"{Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())} : '{full}'");
    }

    private static string TempPath(string full) =>
        Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");

    /// <summary>
    /// Creates the temporary file. Whether its folder exists is asked only when that fails (to say so): asking first
    /// cost a system call on every write.
    /// </summary>
    private static TempFileStream CreateTemp(string path, string temp)
    {
        try { return new TempFileStream(temp); }
        catch (IOException) when (Path.GetDirectoryName(temp) is { } dir && !Directory.Exists(dir))
        {
            throw new MirException($"cannot write '{path}': folder '{dir}' does not exist");
        }
    }

    /// <summary>
    /// The temporary file as a write-only stream, buffered in 64 KB from the shared pool: a FileStream allocated a
    /// fresh 64 KB buffer for every file (half of what writing mtcnn det1's merged net allocated). Writes of at least
    /// <see cref="DirectWriteBytes"/> (a model's weights) go to the file directly. As an <see cref="IBufferWriter{T}"/> it lets a
    /// serializer (protobuf) write into that buffer itself, instead of into its own buffer that is then copied here.
    /// </summary>
    private sealed class TempFileStream(string path) : Stream, IBufferWriter<byte>, IPayloadWriter
    {
        private const int BufferSize = DirectWriteBytes;
        private readonly CreatedFile _file = CreatedFile.Create(path);
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        private int _buffered;
        private long _fileOffset;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _fileOffset + _buffered; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void WriteByte(byte value) => Write([value]);

        public override void Write(ReadOnlySpan<byte> bytes)
        {
            var buffer = _buffer ?? throw new ObjectDisposedException(nameof(TempFileStream));
            if (bytes.Length >= DirectWriteBytes)
            {
                Flush();
                WriteToFile(bytes);
                return;
            }
            if (_buffered + bytes.Length > buffer.Length) Flush();
            bytes.CopyTo(buffer.AsSpan(_buffered));
            _buffered += bytes.Length;
        }

        // A 32 KB copy into the buffer costs about what a write call does (a third of a 64 KB flush of its own).
        public int PayloadBytes => 1 << 15;

        public void WritePayload(ReadOnlyMemory<byte> payload)
        {
            var buffer = _buffer ?? throw new ObjectDisposedException(nameof(TempFileStream));
            if (_buffered == 0)
            {
                WriteToFile(payload.Span);
                return;
            }
            _file.Write(buffer.AsMemory(0, _buffered), payload, _fileOffset);
            _fileOffset += _buffered + payload.Length;
            _buffered = 0;
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            var buffer = _buffer ?? throw new ObjectDisposedException(nameof(TempFileStream));
            int wanted = Math.Max(sizeHint, 1);
            if (buffer.Length - _buffered < wanted)
            {
                Flush();
                if (buffer.Length < wanted)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    _buffer = buffer = ArrayPool<byte>.Shared.Rent(wanted);
                }
            }
            return buffer.AsMemory(_buffered);
        }

        public void Advance(int count)
        {
            var buffer = _buffer ?? throw new ObjectDisposedException(nameof(TempFileStream));
            if (count < 0 || _buffered + count > buffer.Length) throw new ArgumentOutOfRangeException(nameof(count));
            _buffered += count;
        }

        public override void Flush()
        {
            if (_buffered == 0 || _buffer is null) return;
            WriteToFile(_buffer.AsSpan(0, _buffered));
            _buffered = 0;
        }

        private void WriteToFile(ReadOnlySpan<byte> bytes)
        {
            _file.Write(bytes, _fileOffset);
            _fileOffset += bytes.Length;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _buffer is { } buffer)
            {
                try { Flush(); }
                finally
                {
                    _buffer = null;
                    ArrayPool<byte>.Shared.Return(buffer);
                    _file.Dispose();
                }
            }
            base.Dispose(disposing);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
