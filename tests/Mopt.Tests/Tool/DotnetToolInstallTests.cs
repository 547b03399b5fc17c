using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Mopt.Tests.Tool;

/// <summary>
/// mopt-opt as a .NET tool: the package scripts/setup.sh packs into artifacts/packages installs with
/// <c>dotnet tool install --global --add-source DIR mopt-opt</c> into a throwaway home (its own NuGet cache and a
/// NuGet.Config that clears every other source, so nothing outside the test is read or changed), and the installed
/// command prints the version and commit and writes the same model the Native AOT build writes.
/// </summary>
public sealed class DotnetToolInstallTests
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="home"/> as its home, .NET's and NuGet's.</summary>
    private static ChildRun Start(string file, IEnumerable<string> args, string home) =>
        ChildProcess.Run(file, args, home, new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["DOTNET_CLI_HOME"] = home,
            ["NUGET_PACKAGES"] = Path.Combine(home, "nuget-packages"),
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        });

    private static string ToolchainVersion() =>
        XDocument.Load(Path.Combine(TestPaths.RepoRoot(), "Directory.Build.props")).Descendants("Version").Single().Value;

    [Fact]
    public void InstallsFromTheLocalPackageAndRunsLikeTheNativeBuild()
    {
        var root = TestPaths.RepoRoot();
        var packages = Path.Combine(root, "artifacts", "packages");
        var version = ToolchainVersion();
        Assert.True(File.Exists(Path.Combine(packages, $"mopt-opt.{version}.nupkg")),
            $"{packages} has no mopt-opt.{version}.nupkg: scripts/setup.sh packs it (dotnet pack tools/mopt-opt)");

        using var home = new TempDir();
        var config = home.Write("NuGet.Config", """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><clear /></packageSources>
            </configuration>
            """);
        var dotnet = ChildProcess.Dotnet;
        var install = Start(dotnet, ["tool", "install", "--global", "--configfile", config, "--add-source", packages, "mopt-opt"], home.Path);
        Assert.True(install.ExitCode == 0, install.ToString());
        Assert.Contains($"Tool 'mopt-opt' (version '{version}') was successfully installed", install.Stdout);

        var list = Start(dotnet, ["tool", "list", "--global"], home.Path);
        Assert.Matches(new Regex($@"(?m)^mopt-opt\s+{Regex.Escape(version)}\s+mopt-opt\s*$"), list.Stdout);

        var tool = Path.Combine(home.Path, ".dotnet", "tools", "mopt-opt");
        Assert.True(File.Exists(tool), $"no command at {tool}");

        // --version: the toolchain's version and, built from git as here, a commit this repository has
        var printed = Start(tool, ["--version"], home.Path);
        Assert.Equal(0, printed.ExitCode);
        var match = Regex.Match(printed.Stdout, $@"^mopt-opt {Regex.Escape(version)} \(commit ([0-9a-f]{{40}})\)\n$");
        Assert.True(match.Success, printed.ToString());
        if (Directory.Exists(Path.Combine(root, ".git")) || File.Exists(Path.Combine(root, ".git")))
        {
            var known = Start("git", ["-C", root, "cat-file", "-e", match.Groups[1].Value + "^{commit}"], home.Path);
            Assert.True(known.ExitCode == 0, $"--version names commit {match.Groups[1].Value}, which git does not know: {known}");
        }

        // the installed command does the work: deploy the bundled example, verified in ONNX Runtime (its native library
        // comes with the package), and writes the bytes the Native AOT build writes
        var example = Path.Combine(root, "examples", "small_cnn.mir");
        var fromTool = Path.Combine(home.Path, "tool.onnx");
        var deploy = Start(tool, [example, "--pipeline=deploy", "-o", fromTool, "--verify-against=" + example], home.Path);
        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Contains("verify: passed", deploy.Stdout + deploy.Stderr);
        var fromNative = Path.Combine(home.Path, "native.onnx");
        var native = Start(TestPaths.MoptOpt, [example, "--pipeline=deploy", "-o", fromNative], home.Path);
        Assert.True(native.ExitCode == 0, native.ToString());
        Assert.Equal(File.ReadAllBytes(fromNative), File.ReadAllBytes(fromTool));

        // bad input: the message and exit status 1, no trace
        var bad = Start(tool, [Path.Combine(home.Path, "missing.onnx")], home.Path);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("missing.onnx", bad.Stderr);
        Assert.DoesNotContain("   at ", bad.Stderr);
    }
}
