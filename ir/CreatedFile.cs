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
internal sealed unsafe class CreatedFile : OpenFile
{
    /// <summary>The two buffers of a gathered write on the .NET way (RandomAccess takes a list).</summary>
    private ReadOnlyMemory<byte>[]? _gather;

    private CreatedFile(string path, int descriptor) : base(path, descriptor) { }

    private CreatedFile(string path, SafeFileHandle handle) : base(path, handle) { }

    public static CreatedFile Create(string path)
    {
        if (Libc.Usable)
        {
            int descriptor = Libc.Open(path, Libc.WriteOnly | Libc.Create | Libc.Truncate | Libc.CloseOnExec, Permissions);
            if (descriptor >= 0) return new CreatedFile(path, descriptor);
        }
        return new CreatedFile(path, File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None));
    }

    /// <summary>Writes all of <paramref name="bytes"/> at <paramref name="offset"/>.</summary>
    public void Write(ReadOnlySpan<byte> bytes, long offset)
    {
        if (Handle is not null)
        {
            RandomAccess.Write(Handle, bytes, offset);
            return;
        }
        fixed (byte* start = bytes)
        {
            for (int done = 0; done < bytes.Length;)
            {
                nint n = Libc.PWrite(Descriptor, start + done, (nuint)(bytes.Length - done), offset + done);
                if (n < 0) { ThrowUnlessInterrupted(); continue; }
                done += (int)n;
            }
        }
    }

    /// <summary>Writes <paramref name="first"/> then <paramref name="second"/> from <paramref name="offset"/> on, in one call when it takes them whole.</summary>
    public void Write(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, long offset)
    {
        if (Handle is not null)
        {
            var gather = _gather ??= new ReadOnlyMemory<byte>[2];
            gather[0] = first;
            gather[1] = second;
            try { RandomAccess.Write(Handle, gather, offset); }
            finally { gather[0] = gather[1] = default; }
            return;
        }
        nint written;
        fixed (byte* a = first.Span)
        fixed (byte* b = second.Span)
        {
            var vectors = stackalloc Libc.IoVector[2];
            vectors[0] = new Libc.IoVector(a, (nuint)first.Length);
            vectors[1] = new Libc.IoVector(b, (nuint)second.Length);
            do written = Libc.PWriteV(Descriptor, vectors, 2, offset);
            while (written < 0 && Marshal.GetLastPInvokeError() == Libc.Interrupted);
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
        if (error != Libc.Interrupted) throw new IOException($"{Marshal.GetPInvokeErrorMessage(error)} : '{Path}'");
    }

    /// <summary>rw-rw-rw-, less the process's umask: what .NET creates files with.</summary>
    private const int Permissions = 0x1B6;
}
