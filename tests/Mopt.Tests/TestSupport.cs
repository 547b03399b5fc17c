using System.Diagnostics;
using System.Text;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;
using Mopt.Tools.Opt;

namespace Mopt.Tests;

/// <summary>A fact that needs upstream mlir-opt; skipped (with the reason) when it is not installed.</summary>
public sealed class MlirOptFactAttribute : FactAttribute
{
    public MlirOptFactAttribute()
    {
        if (!MlirOpt.Available) Skip = $"mlir-opt is not installed at {TestPaths.MlirOpt} (Debian package mlir-19-tools)";
    }
}

/// <summary>A theory that needs upstream mlir-opt; skipped (with the reason) when it is not installed.</summary>
public sealed class MlirOptTheoryAttribute : TheoryAttribute
{
    public MlirOptTheoryAttribute()
    {
        if (!MlirOpt.Available) Skip = $"mlir-opt is not installed at {TestPaths.MlirOpt} (Debian package mlir-19-tools)";
    }
}

/// <summary>
/// The real models in ../shared/models, beside the repository. A clone without them skips the tests that read them,
/// with the reason; CI (<c>CI=true</c>, which CI services set) or <c>MOPT_REQUIRE_SHARED_MODELS=1</c> requires them,
/// so there a missing folder fails those tests instead.
/// </summary>
public static class SharedModels
{
    public static bool Available => Directory.Exists(TestPaths.SharedModels);

    public static bool Required =>
        Environment.GetEnvironmentVariable("CI") is "true" or "1" || Environment.GetEnvironmentVariable("MOPT_REQUIRE_SHARED_MODELS") is "1" or "true";

    /// <summary>Why a test that needs the models is skipped here; null when it runs.</summary>
    public static string? SkipReason => Available || Required
        ? null
        : $"needs the real models in ../shared/models, not found at {TestPaths.SharedModels} (CI or MOPT_REQUIRE_SHARED_MODELS=1 fails instead)";
}

/// <summary>A fact that reads ../shared/models; skipped (with the reason) when they are missing and not required.</summary>
public sealed class SharedModelsFactAttribute : FactAttribute
{
    public SharedModelsFactAttribute() => Skip = SharedModels.SkipReason;
}

/// <summary>A theory that reads ../shared/models (its data may list them); skipped as a whole when they are missing and not required.</summary>
public sealed class SharedModelsTheoryAttribute : TheoryAttribute
{
    public SharedModelsTheoryAttribute() => Skip = SharedModels.SkipReason;
}

/// <summary>
/// The ONNX backend test suite as Debian's libonnx-testdata installs it (scripts/setup.sh installs the package; bench/run.sh
/// conformance too): tests that read it are skipped, with the reason, when it is missing and not required (as <see cref="SharedModels"/>).
/// </summary>
public static class ConformanceData
{
    public const string Root = "/usr/share/libonnx-testdata/data";

    public static string? SkipReason => Directory.Exists(Root) || SharedModels.Required
        ? null
        : $"needs the ONNX backend test suite at {Root} (Debian's libonnx-testdata, which scripts/setup.sh installs)";
}

/// <summary>A theory that reads the ONNX backend test suite; skipped as a whole when it is missing and not required.</summary>
public sealed class ConformanceDataTheoryAttribute : TheoryAttribute
{
    public ConformanceDataTheoryAttribute() => Skip = ConformanceData.SkipReason;
}

/// <summary>Runs upstream mlir-opt (with --allow-unregistered-dialect).</summary>
public static class MlirOpt
{
    public static bool Available => File.Exists(TestPaths.MlirOpt);

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        var psi = new ProcessStartInfo(TestPaths.MlirOpt)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--allow-unregistered-dialect");
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderrTask = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(60_000))
        {
            p.Kill();
            throw new TimeoutException("mlir-opt did not finish in 60 s");
        }
        return new Result(p.ExitCode, stdout, stderrTask.Result);
    }
}

/// <summary>A temporary folder, deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mopt-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string text)
    {
        var path = File(name);
        System.IO.File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public static class Mir
{
    public static string Print(MirModule m, PrintOptions? options = null) => MirPrinter.PrintToString(m, options);

    public static MirModule Parse(string text, string name = "test.mir") => MirReader.ParseText(text, name);

    /// <summary>Prints, reparses and prints again; asserts both prints are equal and returns the reparsed module.</summary>
    public static MirModule AssertRoundTrip(MirModule m, out string printed)
    {
        printed = Print(m);
        MirModule reparsed;
        try { reparsed = Parse(printed, "printed.mir"); }
        catch (MirException e) { throw new Xunit.Sdk.XunitException($"printed text does not reparse: {e.Format()}\n---\n{printed}"); }
        var again = Print(reparsed);
        Assert.Equal(printed, again);
        return reparsed;
    }

    /// <summary>Runs mopt-opt in-process.</summary>
    public static (int Exit, string Stdout, string Stderr) Opt(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = OptTool.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    public static string ExamplePath => System.IO.Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir");

    /// <summary>Every location that an operation or block argument of <paramref name="m"/> carries, with its owner.</summary>
    public static void RewriteLocations(MirModule m, Func<Location, Location> rewrite)
    {
        foreach (var op in m.Op.Walk())
        {
            op.Location = rewrite(op.Location);
            foreach (var region in op.Regions)
                foreach (var block in region.Blocks)
                    foreach (var arg in block.Arguments)
                        arg.Location = rewrite(arg.Location);
        }
    }

    /// <summary>
    /// Drops the resource blobs nothing refers to. Both printers write the used blobs in the order the IR first
    /// uses them, but mlir-opt leaves unused blobs out, where mopt keeps them (after the used ones).
    /// </summary>
    public static void NormalizeResources(MirModule m)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var op in m.Op.Walk())
            foreach (var a in op.Attributes) CollectKeys(a.Value, used);
        foreach (var key in m.Resources.Blobs.Select(b => b.Key).Where(k => !used.Contains(k)).ToList()) m.Resources.Remove(key);
    }

    private static void CollectKeys(Attr attr, HashSet<string> into)
    {
        switch (attr)
        {
            case DenseResourceAttr r: into.Add(r.Key); break;
            case ArrayAttr a: foreach (var e in a.Elements) CollectKeys(e, into); break;
            case DictionaryAttr d: foreach (var e in d.Entries) CollectKeys(e.Value, into); break;
        }
    }
}

/// <summary>
/// Structural comparison of two modules, floats compared by their bits. Messages are built only on failure
/// (formatting every attribute of every module would be slow).
/// </summary>
public static class IrAssert
{
    private static void Check(bool condition, Func<string> message)
    {
        if (!condition) throw new Xunit.Sdk.XunitException(message());
    }

    public static void Equivalent(MirModule expected, MirModule actual)
    {
        var map = new Dictionary<Value, Value>(ReferenceEqualityComparer.Instance);
        Op(expected.Op, actual.Op, map, "module");
        // The table's order is not part of the module: blobs print in the order the IR first uses them.
        var eb = expected.Resources.Blobs.OrderBy(b => b.Key, StringComparer.Ordinal).ToList();
        var ab = actual.Resources.Blobs.OrderBy(b => b.Key, StringComparer.Ordinal).ToList();
        Assert.Equal(eb.Select(b => b.Key), ab.Select(b => b.Key));
        for (int i = 0; i < eb.Count; i++)
        {
            if (eb[i].Value.Data.Length > 0) Assert.Equal(eb[i].Value.Alignment, ab[i].Value.Alignment); // an empty blob prints as 0x00000000
            Check(eb[i].Value.Data.Span.SequenceEqual(ab[i].Value.Data.Span), () => $"blob '{eb[i].Key}' bytes differ");
        }
    }

    private static void Op(Operation e, Operation a, Dictionary<Value, Value> map, string path)
    {
        path = $"{path}/{e.Name}";
        Check(e.Name == a.Name, () => $"{path}: name {e.Name} vs {a.Name}");
        Check(e.Location == a.Location, () => $"{path}: location {e.Location} vs {a.Location}");
        Check(e.OperandCount == a.OperandCount, () => $"{path}: operand count");
        for (int i = 0; i < e.OperandCount; i++)
            Check(map.TryGetValue(e.GetOperand(i), out var m) && ReferenceEquals(m, a.GetOperand(i)), () => $"{path}: operand #{i} differs");
        Check(e.Results.Count == a.Results.Count, () => $"{path}: result count");
        for (int i = 0; i < e.Results.Count; i++)
        {
            Check(e.Results[i].Type == a.Results[i].Type, () => $"{path}: result #{i} type {e.Results[i].Type} vs {a.Results[i].Type}");
            map[e.Results[i]] = a.Results[i];
        }
        var ea = e.Attributes.ToList();
        var aa = a.Attributes.ToList();
        Check(ea.Select(x => x.Name).SequenceEqual(aa.Select(x => x.Name)),
            () => $"{path}: attribute names [{string.Join(",", ea.Select(x => x.Name))}] vs [{string.Join(",", aa.Select(x => x.Name))}]");
        for (int i = 0; i < ea.Count; i++) Attribute(ea[i].Value, aa[i].Value, $"{path}.{ea[i].Name}");
        Check(e.Regions.Count == a.Regions.Count, () => $"{path}: region count");
        for (int r = 0; r < e.Regions.Count; r++)
        {
            var eBlocks = e.Regions[r].Blocks;
            var aBlocks = a.Regions[r].Blocks;
            Check(eBlocks.Count == aBlocks.Count, () => $"{path}: region #{r} has {eBlocks.Count} vs {aBlocks.Count} blocks");
            for (int b = 0; b < eBlocks.Count; b++)
            {
                var eb = eBlocks[b];
                var ab = aBlocks[b];
                Check(eb.Arguments.Count == ab.Arguments.Count, () => $"{path}: block {b} argument count");
                for (int i = 0; i < eb.Arguments.Count; i++)
                {
                    Check(eb.Arguments[i].Type == ab.Arguments[i].Type, () => $"{path}: block {b} arg #{i} type");
                    Check(eb.Arguments[i].Location == ab.Arguments[i].Location,
                        () => $"{path}: block {b} arg #{i} location {eb.Arguments[i].Location} vs {ab.Arguments[i].Location}");
                    map[eb.Arguments[i]] = ab.Arguments[i];
                }
                Check(eb.Operations.Count == ab.Operations.Count, () => $"{path}: block {b} op count");
                for (int i = 0; i < eb.Operations.Count; i++) Op(eb.Operations[i], ab.Operations[i], map, $"{path}[{r}.{b}.{i}]");
            }
        }
    }

    public static void Attribute(Attr e, Attr a, string path)
    {
        Check(e.GetType() == a.GetType(), () => $"{path}: {e.GetType().Name} came back as {a.GetType().Name}");
        switch (e)
        {
            case FloatAttr f:
            {
                var g = (FloatAttr)a;
                Check(f.Type == g.Type, () => $"{path}: float type {f.Type} vs {g.Type}");
                Check(f.Bits == g.Bits, () => $"{path}: {f.Type} bits 0x{f.Bits:X} came back as 0x{g.Bits:X}");
                break;
            }
            case DenseArrayAttr d:
            {
                var g = (DenseArrayAttr)a;
                // Float elements are held as their bits, so equal values means equal bits.
                Check(d.Type == g.Type && d.Values.Equals(g.Values),
                    () => $"{path}: array<{d.Type}: {string.Join(", ", d.Values)}> came back as array<{g.Type}: {string.Join(", ", g.Values)}>");
                break;
            }
            case DenseElementsAttr d:
            {
                var g = (DenseElementsAttr)a;
                Check(d.Type == g.Type, () => $"{path}: dense type {d.Type} vs {g.Type}");
                Check(d.IsSplat == g.IsSplat, () => $"{path}: splat {d.IsSplat} vs {g.IsSplat}");
                Check(d.Data.Span.SequenceEqual(g.Data.Span),
                    () => $"{path}: dense bytes {Convert.ToHexString(d.Data.Span)} came back as {Convert.ToHexString(g.Data.Span)}");
                break;
            }
            case ArrayAttr arr:
            {
                var g = (ArrayAttr)a;
                Check(arr.Elements.Count == g.Elements.Count, () => $"{path}: array length");
                for (int i = 0; i < arr.Elements.Count; i++) Attribute(arr.Elements[i], g.Elements[i], $"{path}[{i}]");
                break;
            }
            case DictionaryAttr dict:
            {
                var g = (DictionaryAttr)a;
                Check(dict.Entries.Select(x => x.Name).SequenceEqual(g.Entries.Select(x => x.Name)), () => $"{path}: dictionary keys");
                for (int i = 0; i < dict.Entries.Count; i++) Attribute(dict.Entries[i].Value, g.Entries[i].Value, $"{path}.{dict.Entries[i].Name}");
                break;
            }
            default:
                Check(e.Equals(a), () => $"{path}: {e} came back as {a}");
                break;
        }
    }
}
