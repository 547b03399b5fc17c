using System.Diagnostics;
using System.Globalization;

namespace Mopt.Bench;

// Shared by the benchmark programs (linked into each project): running a tool under /usr/bin/time, medians, folders.

public sealed class BenchException(string message) : Exception(message);

/// <summary>One run of a tool under /usr/bin/time.</summary>
public sealed record Sample(double Wall, double PeakMiB, double User, double Sys)
{
    public double Cpu => User + Sys;
}

public static class BenchSupport
{
    /// <summary>
    /// Runs a tool under GNU time; wall time from our own clock (ms resolution), peak RSS from time's %M, CPU from
    /// %U + %S. A non-zero exit is a <see cref="BenchException"/>. <paramref name="echoStderr"/> decides whether the
    /// tool's stderr is shown (e.g. a timing report).
    /// </summary>
    public static Sample RunTool(string tool, IReadOnlyList<string> args, IReadOnlyList<(string Key, string Value)> env, string what,
        Func<string, bool>? echoStderr = null)
    {
        string timeFile = Path.Combine(Path.GetTempPath(), $"mopt-bench-time-{Environment.ProcessId}.txt");
        var psi = new ProcessStartInfo("/usr/bin/time")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-f", "%e %M %U %S", "-o", timeFile, "--", tool }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;

        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new BenchException($"cannot start {tool}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        double wall = clock.Elapsed.TotalSeconds;
        string err = stderr.Result;
        _ = stdout.Result;
        if (p.ExitCode != 0)
            throw new BenchException($"{what} exited with {p.ExitCode}: {Trim(err)}");
        if (err.Length > 0 && echoStderr is not null && echoStderr(err)) Console.Error.Write(err);

        var fields = File.ReadAllText(timeFile).Trim().Split('\n')[^1].Split(' ');
        File.Delete(timeFile);
        double F(int i) => double.Parse(fields[i], CultureInfo.InvariantCulture);
        return new Sample(wall, F(1) / 1024.0, F(2), F(3));
    }

    /// <summary>
    /// A new folder on tmpfs (/dev/shm) when there is one, else in $TMPDIR: on a disk the kernel's writeback of one
    /// run's output lands in the next runs' timings.
    /// </summary>
    public static string TempDir()
    {
        if (Directory.Exists("/dev/shm"))
        {
            try
            {
                var dir = Path.Combine("/dev/shm", $"mopt-bench-{Environment.ProcessId}");
                return Directory.CreateDirectory(dir).FullName;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return Directory.CreateTempSubdirectory("mopt-bench-").FullName;
    }

    /// <summary>The 1-minute load average: other work on the machine shows up in the timings.</summary>
    public static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }

    public static string Trim(string s) => s.Length > 2000 ? s[..2000] + "…" : s.Trim();

    public static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    public static bool SameBytes(string a, string b)
    {
        using var fa = new FileStream(a, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var fb = new FileStream(b, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (fa.Length != fb.Length) return false;
        var ba = new byte[1 << 20];
        var bb = new byte[1 << 20];
        while (true)
        {
            int na = fa.ReadAtLeast(ba, ba.Length, throwOnEndOfStream: false);
            int nb = fb.ReadAtLeast(bb, bb.Length, throwOnEndOfStream: false);
            if (na != nb || !ba.AsSpan(0, na).SequenceEqual(bb.AsSpan(0, nb))) return false;
            if (na == 0) return true;
        }
    }

    /// <summary>The repository's root: the folder above this program that holds Toolchain.sln.</summary>
    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Toolchain.sln"))) return d.FullName;
        throw new BenchException("cannot find the repository (Toolchain.sln) above " + AppContext.BaseDirectory);
    }
}
