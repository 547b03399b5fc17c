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

    /// <summary>The size of <paramref name="data"/> after gzip at level 9 (<c>gzip -9</c>: zlib's best compression).</summary>
    public static long GzipSize(Stream data)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true)) data.CopyTo(gzip);
        return output.Length;
    }

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

/// <summary>The options every benchmark takes: which mopt-opt to time and how, where to work, and strictness.</summary>
public sealed class ToolOptions
{
    public string? Mopt { get; private set; }
    public List<(string Key, string Value)> MoptEnv { get; } = new();
    public List<string> MoptArgs { get; } = new();
    public string? Dir { get; private set; }
    public bool Keep { get; private set; }
    public bool Strict { get; private set; }

    /// <summary>The mopt-opt to time: --mopt, else the command scripts/setup.sh ships.</summary>
    public string MoptPath(string root) => Path.GetFullPath(Mopt ?? Path.Combine(root, "artifacts", "mopt-opt", "mopt-opt"));

    /// <summary>Takes <paramref name="arg"/> when it is one of these options; false when it is not.</summary>
    public bool TryParse(string arg, Func<string> value)
    {
        switch (arg)
        {
            case "--mopt": Mopt = value(); return true;
            case "--env":
                var kv = value();
                int at = kv.IndexOf('=');
                if (at <= 0) throw new BenchException($"--env needs K=V, not '{kv}'");
                MoptEnv.Add((kv[..at], kv[(at + 1)..]));
                return true;
            case "--mopt-arg": MoptArgs.Add(value()); return true;
            case "--dir": Dir = value(); return true;
            case "--keep": Keep = true; return true;
            case "--strict": Strict = true; return true;
            default: return false;
        }
    }
}

public static class BenchOptions
{
    /// <summary>The value of option <paramref name="arg"/> as a positive integer, else an error naming the option.</summary>
    public static int Positive(string arg, string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new BenchException($"{arg} needs a positive number");

    /// <summary>Calls <paramref name="handle"/> per option, with its value read from <c>--k=v</c> or the next argument.</summary>
    public static void ForEach(string[] args, Action<string, Func<string>> handle)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0) { inline = arg[(eq + 1)..]; arg = arg[..eq]; }
            string name = arg;
            handle(arg, () => inline ?? (++i < args.Length ? args[i] : throw new BenchException($"{name} needs a value")));
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> in the work folder (--dir, else a new temporary one), with its input: --input
    /// when given, else what <paramref name="generate"/> writes to <paramref name="inputName"/>. A temporary folder is
    /// removed afterwards unless --keep.
    /// </summary>
    public static int InWorkDir(ToolOptions o, string? givenInput, string inputName, Action<string> generate, Func<string, string, int> body)
    {
        bool temporary = o.Dir is null;
        string dir = o.Dir is { } d ? Directory.CreateDirectory(d).FullName : BenchSupport.TempDir();
        try
        {
            string input;
            if (givenInput is { } given)
            {
                input = Path.GetFullPath(given);
                if (!File.Exists(input)) throw new BenchException($"'{given}' not found");
                Console.WriteLine($"input: {input} ({new FileInfo(input).Length / 1e6:F1} MB)");
            }
            else
            {
                input = Path.Combine(dir, inputName);
                generate(input);
            }
            return body(input, dir);
        }
        finally
        {
            if (temporary && !o.Keep) Directory.Delete(dir, recursive: true);
            else Console.WriteLine($"files kept in {dir}");
        }
    }

    /// <summary>One line of a per-phase profile: wall, user and system seconds, bytes allocated, heap, working set, GCs.</summary>
    public static void TimePhase(string what, Action action, int width = 56)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        var pause = GC.GetTotalPauseDuration();
        var self = Process.GetCurrentProcess();
        var (user, sys) = (self.UserProcessorTime, self.PrivilegedProcessorTime);
        var clock = Stopwatch.StartNew();
        action();
        double s = clock.Elapsed.TotalSeconds;
        self.Refresh();
        double u = (self.UserProcessorTime - user).TotalSeconds, k = (self.PrivilegedProcessorTime - sys).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        string gcs = $"gc {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2} " +
                     $"(gen0/1/2 counts), paused {(GC.GetTotalPauseDuration() - pause).TotalMilliseconds:F1} ms";
        Console.WriteLine($"  {what.PadRight(width)} {s,7:F3} {u,6:F3} {k,6:F3} {allocated / 1e6,10:F1} {GC.GetTotalMemory(false) / 1e6,10:F1} {self.WorkingSet64 / 1048576.0,8:F1}   {gcs}");
    }
}
