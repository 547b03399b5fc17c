using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Mopt.Ir;

/// <summary>
/// A file created (or emptied) to be written at offsets: <see cref="AtomicFile"/>'s temporaries. On 64-bit Linux it is
/// libc's open, pwrite (pwritev for a buffer and a payload at once) and close: .NET's RandomAccess.Write asks the handle
/// first whether it can seek (an lseek per file), and its SafeFileHandle adds its reference counting to every call (the
/// reading side, <see cref="ReadOnlyFile"/>, measured 2-3% of a small net's deploy for the like). What that way does not
/// create (a missing folder, no permission) is created the .NET way, which throws its usual exception.
/// </summary>
internal sealed unsafe partial class CreatedFile : IDisposable
{
    private readonly SafeFileHandle? _handle;
    private int _descriptor;
    /// <summary>The two buffers of a gathered write on the .NET way (RandomAccess takes a list).</summary>
    private ReadOnlyMemory<byte>[]? _gather;

    public string Path { get; }

    private CreatedFile(string path, int descriptor)
    {
        Path = path;
        _descriptor = descriptor;
    }

    private CreatedFile(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
        _descriptor = -1;
    }

    public static CreatedFile Create(string path)
    {
        if (OperatingSystem.IsLinux() && Environment.Is64BitProcess)
        {
            int descriptor = open(path, OpenWriteOnly | OpenCreate | OpenTruncate | CloseOnExec, Permissions);
            if (descriptor >= 0) return new CreatedFile(path, descriptor);
        }
        return new CreatedFile(path, File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None));
    }

    /// <summary>Writes all of <paramref name="bytes"/> at <paramref name="offset"/>.</summary>
    public void Write(ReadOnlySpan<byte> bytes, long offset)
    {
        if (_handle is not null)
        {
            RandomAccess.Write(_handle, bytes, offset);
            return;
        }
        fixed (byte* start = bytes)
        {
            for (int done = 0; done < bytes.Length;)
            {
                nint n = pwrite(Descriptor, start + done, (nuint)(bytes.Length - done), offset + done);
                if (n < 0) { ThrowUnlessInterrupted(); continue; }
                done += (int)n;
            }
        }
    }

    /// <summary>Writes <paramref name="first"/> then <paramref name="second"/> from <paramref name="offset"/> on, in one call when it takes them whole.</summary>
    public void Write(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, long offset)
    {
        if (_handle is not null)
        {
            var gather = _gather ??= new ReadOnlyMemory<byte>[2];
            gather[0] = first;
            gather[1] = second;
            try { RandomAccess.Write(_handle, gather, offset); }
            finally { gather[0] = gather[1] = default; }
            return;
        }
        nint written;
        fixed (byte* a = first.Span)
        fixed (byte* b = second.Span)
        {
            var vectors = stackalloc IoVector[2];
            vectors[0] = new IoVector(a, (nuint)first.Length);
            vectors[1] = new IoVector(b, (nuint)second.Length);
            do written = pwritev(Descriptor, vectors, 2, offset);
            while (written < 0 && Marshal.GetLastPInvokeError() == Interrupted);
        }
        if (written < 0) ThrowUnlessInterrupted();
        // A short write (a full disk, a signal): the rest one by one, which either finishes or throws.
        if (written < first.Length)
        {
            Write(first.Span[(int)written..], offset + written);
            Write(second.Span, offset + first.Length);
        }
        else if (written < first.Length + second.Length)
        {
            int done = (int)(written - first.Length);
            Write(second.Span[done..], offset + written);
        }
    }

    private void ThrowUnlessInterrupted()
    {
        int error = Marshal.GetLastPInvokeError();
        if (error != Interrupted) throw new IOException($"{Marshal.GetPInvokeErrorMessage(error)} : '{Path}'");
    }

    private int Descriptor => _descriptor >= 0 ? _descriptor : throw new ObjectDisposedException(Path);

    public void Dispose()
    {
        if (_handle is not null) _handle.Dispose();
        else if (_descriptor >= 0)
        {
            _ = close(_descriptor);
            _descriptor = -1;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct IoVector(byte* start, nuint length)
    {
        public readonly byte* Start = start;
        public readonly nuint Length = length;
    }

    private const int OpenWriteOnly = 1, OpenCreate = 0x40, OpenTruncate = 0x200, CloseOnExec = 0x80000, Permissions = 0x1B6 /* 0666 */, Interrupted = 4;

    // off_t and ssize_t are 64-bit on 64-bit Linux, the only place these are called.
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint pwrite(int descriptor, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint pwritev(int descriptor, IoVector* vectors, int count, long offset);

    [LibraryImport("libc")]
    private static partial int close(int descriptor);
}
