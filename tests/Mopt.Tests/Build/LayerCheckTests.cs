namespace Mopt.Tests.Build;

/// <summary>
/// The layer check of Directory.Build.targets (<c>CheckMoptLayers</c>, run before every build): the real projects pass
/// it, and a project that references one beside it, above it, or one without a layer fails it, the error naming
/// both projects. The bad projects are throwaway files in a temp folder that import the repository's props and
/// targets and reference real projects, whose declared layers the check reads.
/// </summary>
public sealed class LayerCheckTests
{
    private static ChildRun Msbuild(params string[] args) =>
        ChildProcess.Run(ChildProcess.Dotnet, ["msbuild", "-nologo", "-v:m", "-nodeReuse:false", "-m:1", .. args], TestPaths.RepoRoot(), timeoutSeconds: 120);

    /// <summary>Checks a throwaway project of <paramref name="layer"/> (none: no layer) referencing the given repository projects.</summary>
    private static ChildRun CheckProbe(int? layer, params string[] references)
    {
        using var dir = new TempDir();
        var root = TestPaths.RepoRoot();
        var probe = Path.Combine(dir.Path, "Probe.csproj");
        File.WriteAllText(probe, $"""
            <Project>
              <Import Project="{Path.Combine(root, "Directory.Build.props")}" />
              <PropertyGroup>{(layer is int n ? $"<MoptLayer>{n}</MoptLayer>" : "")}</PropertyGroup>
              <ItemGroup>
            {string.Concat(references.Select(r => $"    <ProjectReference Include=\"{Path.Combine(root, r)}\" />\n"))}  </ItemGroup>
              <Import Project="{Path.Combine(root, "Directory.Build.targets")}" />
            </Project>
            """);
        return Msbuild(probe, "-t:CheckMoptLayers");
    }

    /// <summary>
    /// Every project file of the repository (build outputs and throwaway files aside), from the root, with '/'; not the
    /// examples, which stand alone outside the solution (examples/csharp-api uses mopt as the packed NuGet package).
    /// </summary>
    private static List<string> RepositoryProjects()
    {
        var root = TestPaths.RepoRoot();
        return Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(root, p).Replace('\\', '/'))
            .Where(p => !p.StartsWith("artifacts/", StringComparison.Ordinal) && !p.StartsWith("examples/", StringComparison.Ordinal)
                        && !p.Contains("/node_modules/", StringComparison.Ordinal)
                        && !p.Contains("/bin/", StringComparison.Ordinal) && !p.Contains("/obj/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public void EveryProjectOfTheSolutionReferencesOnlyLowerLayers()
    {
        var run = Msbuild("Toolchain.sln", "-t:CheckMoptLayers", "-p:Configuration=Release", "-v:d");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.DoesNotContain("error MOPT", run.Output);
        // the check ran on each project (not vacuously on none), and the solution lists every project
        foreach (var project in RepositoryProjects())
            Assert.Matches($@"layers: {System.Text.RegularExpressions.Regex.Escape(project)} \(layer \d\) references only lower layers", run.Output);
    }

    [Fact]
    public void AReferenceBesideOrAboveFailsNamingBothProjects()
    {
        var run = CheckProbe(3, "ir/Mopt.Ir.csproj", "frontend/Mopt.Frontend.csproj", "backend/Runtime/Mopt.Runtime.csproj");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error MOPT002:", run.Output);
        Assert.Contains("Probe.csproj (layer 3) references frontend/Mopt.Frontend.csproj (layer 3), backend/Runtime/Mopt.Runtime.csproj (layer 4)", run.Output);
        Assert.DoesNotContain("Mopt.Ir.csproj", run.Output); // layer 1: allowed
    }

    [Fact]
    public void TheBackendMayNotReferenceTheFrontend()
    {
        // what this check was made for: a format's writer reaching into its reader (they share frontend/Schemas instead)
        var run = CheckProbe(3, "frontend/Schemas/Mopt.Schemas.csproj", "ir/Dialects/Mopt.Dialects.csproj", "frontend/Mopt.Frontend.csproj");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("references frontend/Mopt.Frontend.csproj (layer 3):", run.Output);
        Assert.DoesNotContain("Schemas", run.Output);
    }

    [Fact]
    public void AProjectWithoutALayerFails()
    {
        var run = CheckProbe(null, "ir/Mopt.Ir.csproj");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error MOPT001:", run.Output);
        Assert.Contains("Probe.csproj declares no layer", run.Output);
    }
}
