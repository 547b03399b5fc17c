using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Mopt.Ir;

/// <summary>
/// A file open to be read whole (<see cref="WholeFile"/>): its length, and reads at offsets. On 64-bit Linux it takes
/// the system calls reading a file needs, open, one lseek to its end for its length, pread and close: .NET's
/// File.OpenHandle and RandomAccess.GetLength stat it twice instead (once to refuse a folder, once for the length), and
/// under this machine's hypervisor each call costs a microsecond or two (the two fstats were 2% of deploying MTCNN det1,
/// which reads two files). What that way does not read, .NET's opens: a missing or unreadable file (to throw its usual
/// exception), a folder, a pipe, an empty file (and /proc's, which say they are). A file larger than one array can hold
/// is refused (it is read whole).
/// </summary>
internal sealed class ReadOnlyFile : OpenFile
{
    public long Length { get; }

    private ReadOnlyFile(string path, int descriptor, long length) : base(path, descriptor) => Length = length;

    private ReadOnlyFile(string path, SafeFileHandle handle) : base(path, handle)
    {
        Length = RandomAccess.GetLength(handle);
        if (Length > Array.MaxLength) throw new IOException($"'{path}' is larger than one array can hold ({Length} bytes)");
    }

    public static ReadOnlyFile Open(string path)
    {
        if (Libc.Usable && OpenDirect(path) is { } direct) return direct;
        var handle = File.OpenHandle(path);
        try { return new ReadOnlyFile(path, handle); }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The file opened with libc's open and measured with lseek; null when that way does not apply (see the class).</summary>
    private static ReadOnlyFile? OpenDirect(string path)
    {
        int descriptor = Libc.Open(path, Libc.ReadOnly | Libc.CloseOnExec);
        if (descriptor < 0) return null;
        long length = Libc.Seek(descriptor, 0, Libc.SeekEnd);
        // A folder (tmpfs refuses the lseek; ext4 answers a hash's end past what an array holds, or its pread fails
        // below), a pipe, an empty or /proc file, one too large to read whole: .NET's way decides.
        if (length <= 0 || length > Array.MaxLength)
        {
            _ = Libc.Close(descriptor);
            return null;
        }
        return new ReadOnlyFile(path, descriptor, length);
    }

    /// <summary>
    /// Reads <paramref name="bytes"/>.Length bytes from the file's start; throws when the file is shorter now. A file
    /// opened the fast way that cannot be read (a folder on ext4: EISDIR) is read the .NET way, which throws as it does.
    /// </summary>
    public void Fill(Span<byte> bytes)
    {
        int done = 0;
        while (done < bytes.Length)
        {
            int n = Read(bytes[done..], done);
            if (n == 0) throw new IOException($"'{Path}' became shorter while it was read");
            done += n;
        }
    }

    private unsafe int Read(Span<byte> bytes, long offset)
    {
        if (Handle is not null) return RandomAccess.Read(Handle, bytes, offset);
        fixed (byte* start = bytes)
        {
            while (true)
            {
                nint n = Libc.PRead(Descriptor, start, (nuint)bytes.Length, offset);
                if (n >= 0) return (int)n;
                int error = Marshal.GetLastPInvokeError();
                if (error == Libc.Interrupted) continue;
                // A folder: .NET's open refuses it with its usual exception.
                if (error == Libc.IsDirectory) File.OpenHandle(Path).Dispose();
                throw new IOException($"cannot read '{Path}': {Marshal.GetPInvokeErrorMessage(error)}");
            }
        }
    }
}
