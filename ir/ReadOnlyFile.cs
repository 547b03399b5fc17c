using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Mopt.Ir;

/// <summary>
/// A file open to be read whole (<see cref="WholeFile"/>): its length, and reads at offsets. On 64-bit Linux it takes
/// the system calls reading a file needs, open, one lseek to its end for its length, pread and close: .NET's
/// File.OpenHandle and RandomAccess.GetLength stat it twice instead (once to refuse a folder, once for the length), and
/// under this machine's hypervisor each call costs a microsecond or two (the two fstats were 2% of deploying MTCNN det1,
/// which reads two files). What that way does not read, .NET's opens: a missing or unreadable file (to throw its usual
/// exception), a folder, a pipe, an empty file (and /proc's, which say they are).
/// </summary>
internal sealed partial class ReadOnlyFile : IDisposable
{
    private readonly SafeFileHandle? _handle;
    private int _descriptor;

    public string Path { get; }
    public long Length { get; }

    private ReadOnlyFile(string path, int descriptor, long length)
    {
        Path = path;
        _descriptor = descriptor;
        Length = length;
    }

    private ReadOnlyFile(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
        _descriptor = -1;
        Length = RandomAccess.GetLength(handle);
    }

    public static ReadOnlyFile Open(string path)
    {
        if (OperatingSystem.IsLinux() && Environment.Is64BitProcess && OpenDirect(path) is { } direct) return direct;
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
        int descriptor = open(path, ReadOnly | CloseOnExec);
        if (descriptor < 0) return null;
        long length = lseek(descriptor, 0, SeekEnd);
        // A folder (tmpfs refuses the lseek; ext4 answers a hash's end past what an array holds, or its pread fails
        // below), a pipe, an empty or /proc file, one too large to read whole: .NET's way decides.
        if (length <= 0 || length > Array.MaxLength)
        {
            _ = close(descriptor);
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
        if (_handle is not null) return RandomAccess.Read(_handle, bytes, offset);
        fixed (byte* start = bytes)
        {
            while (true)
            {
                nint n = pread(Descriptor, start, (nuint)bytes.Length, offset);
                if (n >= 0) return (int)n;
                int error = Marshal.GetLastPInvokeError();
                if (error == Interrupted) continue;
                // A folder: .NET's open refuses it with its usual exception.
                if (error == IsDirectory) File.OpenHandle(Path).Dispose();
                throw new IOException($"cannot read '{Path}': {Marshal.GetPInvokeErrorMessage(error)}");
            }
        }
    }

    /// <summary>The open file's descriptor, for mmap: valid until <see cref="Dispose"/>.</summary>
    public int Descriptor => _handle is not null ? (int)_handle.DangerousGetHandle()
        : _descriptor >= 0 ? _descriptor : throw new ObjectDisposedException(Path);

    public void Dispose()
    {
        if (_handle is not null) _handle.Dispose();
        else if (_descriptor >= 0)
        {
            _ = close(_descriptor);
            _descriptor = -1;
        }
    }

    private const int ReadOnly = 0, CloseOnExec = 0x80000, SeekEnd = 2, Interrupted = 4, IsDirectory = 21;

    // off_t and ssize_t are 64-bit on 64-bit Linux, the only place these are called.
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial long lseek(int descriptor, long offset, int whence);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint pread(int descriptor, byte* buffer, nuint count, long offset);

    [LibraryImport("libc")]
    private static partial int close(int descriptor);
}
