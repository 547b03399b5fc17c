using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>
/// <c>madvise(2)</c>, for the hints mopt gives about its large buffers. A hint is never required: where the call is not
/// there (not Linux, no libc found) it is skipped, asked once.
/// </summary>
internal static partial class Madvise
{
    public const int DontNeed = 4;
    public const int HugePage = 14;

    private static readonly Lazy<bool> Available = new(() =>
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return madvise(0, 0, DontNeed) is 0 or -1; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    });

    /// <summary>Gives <paramref name="advice"/> for <paramref name="length"/> bytes at <paramref name="address"/> (page-aligned), when it can.</summary>
    public static void Advise(nint address, nuint length, int advice)
    {
        if (Available.Value) _ = madvise(address, length, advice);
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int madvise(nint address, nuint length, int advice);
}
