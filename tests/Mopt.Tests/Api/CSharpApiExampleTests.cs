using System.Globalization;
using System.Text.RegularExpressions;
using Mopt.Api;

namespace Mopt.Tests.Api;

/// <summary>
/// examples/csharp-api as a user builds it: against the Mopt package that <c>dotnet pack tools/Mopt</c> makes, restored
/// from a temporary folder source into a temporary packages folder (the machine's NuGet cache is only read, as a
/// fallback folder, for ONNX Runtime and the rest), then run on the ONNX models in ../shared/models. Its verify figures
/// are within their bounds, and the files it wrote load.
/// </summary>
public sealed class CSharpApiExampleTests
{
    private static readonly string Example = Path.Combine(TestPaths.RepoRoot(), "examples", "csharp-api");

    [SharedModelsFact]
    public void ThePackedPackageBuildsAndRunsTheExample()
    {
        using var tmp = new TempDir();
        // the Release build `dotnet test` runs on (test.sh builds the solution first), its references as they are
        var pack = Dotnet(TestPaths.RepoRoot(), "pack", "tools/Mopt/Mopt.csproj", "-c", "Release", "--no-build", "-p:BuildProjectReferences=false",
            "-o", tmp.File("feed"), "-nologo");
        Assert.True(pack.Code == 0, pack.Output);
        var package = Assert.Single(Directory.GetFiles(tmp.File("feed"), "Mopt.*.nupkg"));
        var version = Path.GetFileNameWithoutExtension(package)["Mopt.".Length..];

        var src = tmp.File("src");
        Directory.CreateDirectory(src);
        foreach (var file in new[] { "csharp-api.csproj", "Program.cs", "Directory.Build.props", "Directory.Build.targets" })
            File.Copy(Path.Combine(Example, file), Path.Combine(src, file));
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var config = tmp.Write("nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="mopt-packed" value="{tmp.File("feed")}" />
              </packageSources>
              <fallbackPackageFolders>
                <clear />
                <add key="machine-cache" value="{cache}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        var build = Dotnet(src, "build", "csharp-api.csproj", "-c", "Release", "--configfile", config,
            $"-p:RestorePackagesPath={tmp.File("packages")}", $"-p:MoptVersion={version}", "-o", tmp.File("bin"), "-nologo");
        Assert.True(build.Code == 0, build.Output);
        // what was restored went to the temporary folder: the Mopt package only (the rest was found in the cache)
        Assert.Equal(["mopt"], Directory.GetDirectories(tmp.File("packages")).Select(Path.GetFileName));

        var outDir = tmp.File("out");
        var run = Dotnet(tmp.Path, tmp.File("bin/csharp-api.dll"), Path.Combine(TestPaths.SharedModels, "onnx"), outDir);
        Assert.True(run.Code == 0, run.Output);
        Assert.EndsWith("all passed", run.Output.TrimEnd());

        // each model: deploy within float rounding, int8 moved but within 5%; every output verified
        var sections = Regex.Split(run.Output, @"^  (?=deploy:|int8:)", RegexOptions.Multiline).Skip(1).ToList();
        Assert.Equal(4, sections.Count);
        foreach (var section in sections)
        {
            var diffs = Regex.Matches(section, @"verify (\S+): max abs diff (\S+), max rel diff (\S+), top-1 \S+: ok")
                .Select(m => double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)).ToList();
            Assert.NotEmpty(diffs);
            if (section.StartsWith("deploy:", StringComparison.Ordinal)) Assert.All(diffs, d => Assert.InRange(d, 0, 1e-4));
            else Assert.All(diffs, d => Assert.InRange(d, 1e-6, 0.05));
            Assert.Contains("reloaded: same ops", section);
        }
        // UltraFace's two outputs, each verified after deploy and after int8
        Assert.Equal(2, Regex.Matches(run.Output, @"verify scores: ").Count);
        Assert.Equal(2, Regex.Matches(run.Output, @"verify boxes: ").Count);

        // the files it wrote: complete ONNX models, int8 ones in QDQ form
        foreach (var name in new[] { "connxr_mnist", "version-RFB-320" })
        {
            var deployed = Model.Load(Path.Combine(outDir, $"{name}.deploy.onnx"));
            var int8 = Model.Load(Path.Combine(outDir, $"{name}.int8.onnx"));
            Assert.DoesNotContain(deployed.OpHistogram(), c => c.Op == "onnx.QuantizeLinear");
            Assert.Contains(int8.OpHistogram(), c => c.Op == "onnx.QuantizeLinear");
            Assert.Equal(deployed.Inputs.Select(i => i.Name), int8.Inputs.Select(i => i.Name));
        }
    }

    /// <summary>Runs dotnet in <paramref name="dir"/>; its exit code and its output (stdout, then stderr).</summary>
    private static (int Code, string Output) Dotnet(string dir, params string[] args)
    {
        // no build server or MSBuild node left running after the test
        string[] noServers = args[0] is "pack" or "build" ? ["-nodeReuse:false", "-p:UseSharedCompilation=false"] : [];
        var run = ChildProcess.Run(ChildProcess.Dotnet, [.. args, .. noServers], dir, timeoutSeconds: 300);
        return (run.ExitCode, run.Output);
    }
}
