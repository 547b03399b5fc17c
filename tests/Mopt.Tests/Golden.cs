using System.Runtime.CompilerServices;

namespace Mopt.Tests;

/// <summary>
/// Golden snapshots: compares text with <c>Golden/NAME.mir</c> beside the tests. A missing or different file
/// fails the test; run with MOPT_UPDATE_GOLDEN=1 to (re)write the snapshots, then review the diff in git.
/// </summary>
public static class Golden
{
    public static void Match(string name, string actual, [CallerFilePath] string callerPath = "")
    {
        var dir = Path.Combine(Path.GetDirectoryName(callerPath)!, "Golden");
        var path = Path.Combine(dir, name);
        if (Environment.GetEnvironmentVariable("MOPT_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"golden file {path} is missing (run with MOPT_UPDATE_GOLDEN=1 to create it)");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.Equal(expected, actual.ReplaceLineEndings("\n"));
    }
}
