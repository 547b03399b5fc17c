using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>
/// The C library's file calls mopt makes on Linux, and the flag values it passes: <see cref="ReadOnlyFile"/>'s and
/// <see cref="CreatedFile"/>'s (64-bit only, where off_t and ssize_t are 64-bit: see <see cref="Usable"/>),
/// <see cref="MappedFile"/>'s mapping and <see cref="AtomicFile"/>'s rename. (<see cref="Madvise"/>'s hints, which may be
/// skipped, are its own.)
/// </summary>
internal static unsafe partial class Libc
{
    public const int ReadOnly = 0, WriteOnly = 1, Create = 0x40, Truncate = 0x200, CloseOnExec = 0x80000;
    public const int SeekEnd = 2;
    public const int ProtRead = 1, MapPrivate = 2, MapPopulate = 0x8000;
    /// <summary>errno values: a call a signal cut short, a read of a folder.</summary>
    public const int Interrupted = 4, IsDirectory = 21;

    /// <summary>Whether these calls are the ones to make here.</summary>
    public static bool Usable => OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode = 0);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    public static partial long Seek(int descriptor, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    public static partial nint PRead(int descriptor, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint PWrite(int descriptor, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "pwritev", SetLastError = true)]
    public static partial nint PWriteV(int descriptor, IoVector* vectors, int count, long offset);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int descriptor);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Map(nint address, nuint length, int protection, int flags, int descriptor, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Unmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Rename(string from, string to);

    /// <summary>struct iovec: one buffer of a gathered write.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public readonly struct IoVector(byte* start, nuint length)
    {
        public readonly byte* Start = start;
        public readonly nuint Length = length;
    }
}
