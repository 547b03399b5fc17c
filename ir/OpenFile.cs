using Microsoft.Win32.SafeHandles;

namespace Mopt.Ir;

/// <summary>
/// A file open either as a descriptor of libc's open (<see cref="Libc"/>) or, where that way did not open it, as .NET's
/// handle: what <see cref="ReadOnlyFile"/> and <see cref="CreatedFile"/> share.
/// </summary>
internal abstract class OpenFile : IDisposable
{
    /// <summary>.NET's handle, or null for a descriptor of libc's.</summary>
    protected SafeFileHandle? Handle { get; }
    private int _descriptor;

    public string Path { get; }

    protected OpenFile(string path, int descriptor)
    {
        Path = path;
        _descriptor = descriptor;
    }

    protected OpenFile(string path, SafeFileHandle handle)
    {
        Path = path;
        Handle = handle;
        _descriptor = -1;
    }

    /// <summary>The open file's descriptor (for mmap, or libc's calls): valid until <see cref="Dispose"/>.</summary>
    public int Descriptor => Handle is not null ? (int)Handle.DangerousGetHandle()
        : _descriptor >= 0 ? _descriptor : throw new ObjectDisposedException(Path);

    public void Dispose()
    {
        if (Handle is not null) Handle.Dispose();
        else if (_descriptor >= 0)
        {
            _ = Libc.Close(_descriptor);
            _descriptor = -1;
        }
    }
}
