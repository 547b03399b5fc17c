using System.Runtime.InteropServices;

namespace Mopt.Bench;

/// <summary>
/// The CPU time of this process, all threads (clock_gettime CLOCK_PROCESS_CPUTIME_ID, ns resolution): on a loaded
/// machine a step of a millisecond is often preempted, which moves its wall time but not its CPU time.
/// </summary>
public static partial class ProcessCpuClock
{
    private const int ClockProcessCpuTimeId = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static double NowMilliseconds()
    {
        if (ClockGetTime(ClockProcessCpuTimeId, out var t) != 0) throw new BenchException("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
        return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
    }
}
