using Mopt.Tools.Opt;

namespace Mopt.Bench;

/// <summary>A <see cref="TimedStep"/> that runs mopt-opt in process (its importer, passes and writer as a library).</summary>
public static class MoptStep
{
    /// <summary>
    /// <c>mopt-opt args</c>, deleting each of <paramref name="outputs"/> (every file the run writes) before each run, so
    /// that no run pays for freeing the last run's files when its rename replaces them; a step mopt does not have yet
    /// ("unknown pipeline", "unknown option", "unknown pass") is n/a, any other failure "fail", each with its first line
    /// in <paramref name="notes"/>.
    /// </summary>
    public static TimedStep Create(string name, string[] args, IReadOnlyList<string> outputs, SortedSet<string> notes) =>
        new(name, () => { foreach (var output in outputs) File.Delete(output); }, () =>
        {
            var stderr = new StringWriter();
            if (OptTool.Run(args, new StringWriter(), stderr) == 0) return null;
            string first = stderr.ToString().Trim().Split('\n')[0];
            bool missing = first.Contains("unknown pipeline", StringComparison.Ordinal) || first.Contains("unknown option", StringComparison.Ordinal)
                || first.Contains("unknown pass", StringComparison.Ordinal);
            notes.Add(missing ? $"{name}: n/a: {first}" : $"{name}: failed on {Path.GetFileName(args[0])}: {first}");
            return missing ? "n/a" : "fail";
        });
}
