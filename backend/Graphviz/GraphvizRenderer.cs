using System.Diagnostics;
using System.Text;

namespace Mopt.Backend.Graphviz;

/// <summary>Renders DOT text with Graphviz's <c>dot</c> (Debian package graphviz), found on PATH.</summary>
public static class GraphvizRenderer
{
    /// <summary>The <c>dot</c> executable on PATH, or null.</summary>
    public static string? FindDot()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "dot");
            if (File.Exists(candidate) && IsExecutable(candidate)) return candidate;
        }
        return null;
    }

    private static bool IsExecutable(string path) =>
        OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>
    /// <c>dot -T<paramref name="format"/></c> of <paramref name="dot"/>: the rendered bytes. A missing <c>dot</c>, or one that
    /// fails (its standard error is in the message), is a <see cref="GraphvizException"/>; <paramref name="what"/> names the output.
    /// </summary>
    public static byte[] Render(string dot, string format, string what)
    {
        var exe = FindDot() ?? throw new GraphvizException(
            $"{what} needs Graphviz's dot, which is not on PATH: install graphviz (Debian: apt-get install graphviz), or write the graph as .dot");
        var start = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false), StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("-T" + format);
        using var process = Process.Start(start) ?? throw new GraphvizException($"{what}: could not start {exe}");
        // Both pipes drained at once while the input is written: a large graph fills either pipe's buffer.
        var output = new MemoryStream();
        var reading = process.StandardOutput.BaseStream.CopyToAsync(output);
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            process.StandardInput.Write(dot);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // dot exited before reading everything: its exit status and standard error say why
        }
        process.WaitForExit();
        reading.Wait();
        var stderr = errors.Result.Trim();
        if (process.ExitCode != 0)
            throw new GraphvizException($"{what}: dot failed (exit status {process.ExitCode})" + (stderr.Length > 0 ? ": " + stderr : ""));
        return output.ToArray();
    }
}
