using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;

namespace Mopt.Tests;

/// <summary>
/// Both directions against upstream mlir-opt: mlir-opt accepts every file mopt prints and prints it exactly as
/// mopt does, and mopt reads back what mlir-opt --mlir-print-debuginfo writes (location aliases and all) to the
/// same text.
/// </summary>
public sealed class MlirOptCompatTests
{
    /// <summary>The bundled example and 40 generated modules (without what mopt still prints differently, see <see cref="ModuleGenerator.MlirSafe"/>).</summary>
    public static IEnumerable<object[]> Cases()
    {
        yield return ["example"];
        for (int seed = 1000; seed < 1040; seed++) yield return [$"seed{seed}"];
    }

    private static MirModule Load(string name) => name == "example"
        ? MirReader.ParseFile(Mir.ExamplePath)
        : new ModuleGenerator(int.Parse(name[4..])) { MlirSafe = true }.Generate();

    [MlirOptTheory]
    [MemberData(nameof(Cases))]
    public void MlirOptAcceptsWhatMoptPrintsAndMoptReadsItsDebugInfoOutputBack(string name)
    {
        using var dir = new TempDir();
        var module = Load(name);
        // mlir-opt prints only the blobs that something uses, in an order of its own: compare like with like.
        Mir.NormalizeResources(module);
        var original = Mir.Print(module);
        var input = dir.Write("input.mir", original);

        var plain = MlirOpt.Run(input);
        Assert.True(plain.ExitCode == 0, $"mlir-opt refused what mopt printed:\n{plain.Stderr}\n---\n{original}");
        // Without --mlir-print-debuginfo mlir-opt prints no locations; otherwise its text is mopt's, byte for byte.
        Assert.Equal(plain.Stdout, WithMlirOptEnding(Mir.Print(module, new PrintOptions { PrintLocations = false })));

        var output = dir.File("debuginfo.mir");
        var debug = MlirOpt.Run(input, "--mlir-print-debuginfo", "-o", output);
        Assert.True(debug.ExitCode == 0, debug.Stderr);
        var upstream = File.ReadAllText(output);
        Assert.Contains("loc(#loc", upstream); // really the aliased form

        MirModule reread;
        try { reread = MirReader.ParseFile(output); }
        catch (MirException e) { throw new Xunit.Sdk.XunitException($"mopt refused mlir-opt's output: {e.Format()}"); }

        // mlir-opt gives every operation and argument that had no location one of input.mir:line:col.
        Mir.RewriteLocations(reread, loc => loc is FileLineColLoc f && f.File == input ? Location.Unknown : loc);
        Mir.NormalizeResources(reread);
        var again = Mir.Print(reread);
        Assert.Equal(original, again);
        IrAssert.Equivalent(module, reread);
    }

    /// <summary>
    /// mlir-opt ends a file that has a <c>{-# ... #-}</c> trailer with an empty line, mopt does not (a skipped BUG
    /// test, <see cref="FileWithResourcesEndsAsMlirOptEndsIt"/>); this adds the line, so that other tests compare the rest.
    /// </summary>
    private static string WithMlirOptEnding(string moptText) => moptText; // mopt now ends a file as mlir-opt does

    [MlirOptFact]
    public void FileWithResourcesEndsAsMlirOptEndsIt()
    {
        var printed = Mir.Print(Mir.Parse("""
            module {
              "t.x"() {a = dense_resource<w> : tensor<1xf32>} : () -> ()
            }

            {-#
              dialect_resources: {
                builtin: {
                  w: "0x040000000000803F"
                }
              }
            #-}
            """));
        using var dir = new TempDir();
        var r = MlirOpt.Run(dir.Write("in.mir", printed));
        Assert.Equal(0, r.ExitCode);
        Assert.EndsWith("#-}\n\n", r.Stdout);
        Assert.Equal(r.Stdout, printed);
    }

    [MlirOptFact]
    public void MoptReadsLocationAliasesMlirOptWrites()
    {
        using var dir = new TempDir();
        var input = dir.Write("in.mir", """
            module {
              func.func @main(%a: tensor<2xf32> loc("input")) -> tensor<2xf32> {
                %0 = "onnx.Relu"(%a) : (tensor<2xf32>) -> tensor<2xf32> loc(fused["Relu_1", "bn1"])
                %1 = "onnx.Neg"(%0) : (tensor<2xf32>) -> tensor<2xf32> loc(fused<"fold">["Relu_1", "x.py":3:4])
                %2 = "onnx.Abs"(%1) : (tensor<2xf32>) -> tensor<2xf32> loc(callsite("Abs" at "Relu_1"))
                return %2 : tensor<2xf32> loc("ret")
              }
            }
            """);
        var output = dir.File("out.mir");
        var r = MlirOpt.Run(input, "--mlir-print-debuginfo", "-o", output);
        Assert.Equal(0, r.ExitCode);
        var text = File.ReadAllText(output);
        Assert.Matches(@"#loc\d+ = loc\(fused\[#loc\d+, #loc\d+\]\)", text);

        var m = MirReader.ParseFile(output);
        var ops = m.MainFunction.Body.Operations;
        Assert.Equal(new FusedLoc(ValueList.Of<Location>(Location.Named("Relu_1"), Location.Named("bn1")), null), ops[0].Location);
        Assert.Equal(new FusedLoc(ValueList.Of<Location>(Location.Named("Relu_1"), new FileLineColLoc("x.py", 3, 4)), new StringAttr("fold")), ops[1].Location);
        Assert.Equal(new CallSiteLoc(Location.Named("Abs"), Location.Named("Relu_1")), ops[2].Location);
        Assert.Equal(Location.Named("ret"), ops[3].Location);
        Assert.Equal(Location.Named("input"), m.MainFunction.Arguments[0].Location);
        Assert.Equal("Relu_1", ops[0].Location.FirstName);
    }

    [MlirOptFact]
    public void MoptNumbersValuesAsMlirOptDoes()
    {
        var printed = Mir.Print(MirReader.ParseFile(Mir.ExamplePath));
        var r = MlirOpt.Run(Mir.ExamplePath);
        Assert.Equal(0, r.ExitCode);
        AssertSameValueNames(r.Stdout, printed);
    }

    [MlirOptFact]
    public void MoptNumbersValuesInNestedRegionsAsMlirOptDoes()
    {
        var printed = Mir.Print(Mir.Parse("""
            module {
              func.func @main(%a: i32) -> i32 {
                %0 = "t.a"() : () -> i32
                %1 = "t.r"(%0) ({
                  %2 = "t.b"() : () -> i32
                  %3 = "t.c"(%2) : (i32) -> i32
                }) : (i32) -> i32
                %4 = "t.d"(%1) : (i32) -> i32
                return %4 : i32
              }
            }
            """));
        using var dir = new TempDir();
        var r = MlirOpt.Run(dir.Write("in.mir", printed));
        Assert.Equal(0, r.ExitCode);
        AssertSameValueNames(r.Stdout, printed);
    }

    private static void AssertSameValueNames(string mlirOpt, string mopt)
    {
        static List<string> Names(string text) =>
            System.Text.RegularExpressions.Regex.Matches(text, @"%[0-9a-z]+(:[0-9]+)?(#[0-9]+)?").Select(x => x.Value).ToList();
        Assert.NotEmpty(Names(mopt));
        Assert.Equal(Names(mlirOpt), Names(mopt));
    }

    [MlirOptFact]
    public void EmptyResourceBlobPrintsAsMlirOptPrintsIt()
    {
        using var dir = new TempDir();
        var printed = Mir.Print(Mir.Parse("""
            module {
              "t.x"() {a = dense_resource<e> : tensor<0xf32>, b = dense_resource<w> : tensor<1xf32>} : () -> ()
            }

            {-#
              dialect_resources: {
                builtin: {
                  e: "0x10000000",
                  w: "0x100000000000803F"
                }
              }
            #-}
            """));
        var r = MlirOpt.Run(dir.Write("in.mir", printed));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("e: \"0x00000000\"", r.Stdout);
        Assert.Equal(r.Stdout, WithMlirOptEnding(printed));
    }

    [MlirOptFact]
    public void ResourceBlobsPrintInTextOrder()
    {
        using var dir = new TempDir();
        var printed = Mir.Print(Mir.Parse("""
            module {
              "t.r"() ({
                "t.x"() {a = dense_resource<inner> : tensor<1xf32>} : () -> ()
              }) {a = dense_resource<outer> : tensor<1xf32>} : () -> ()
            }

            {-#
              dialect_resources: {
                builtin: {
                  outer: "0x040000000000803F",
                  inner: "0x0400000000000040"
                }
              }
            #-}
            """));
        var r = MlirOpt.Run(dir.Write("in.mir", printed));
        Assert.Equal(0, r.ExitCode);
        Assert.True(r.Stdout.IndexOf("inner:", StringComparison.Ordinal) < r.Stdout.IndexOf("outer:", StringComparison.Ordinal), r.Stdout);
        Assert.Equal(r.Stdout, WithMlirOptEnding(printed));
    }

    [MlirOptFact]
    public void EmptyResourceBlobFromMlirOptIsReadBack()
    {
        using var dir = new TempDir();
        var original = Mir.Print(Mir.Parse("""
            module {
              "t.x"() {value = dense_resource<e> : tensor<0xf32>} : () -> ()
            }

            {-#
              dialect_resources: {
                builtin: {
                  e: "0x04000000"
                }
              }
            #-}
            """));
        var r = MlirOpt.Run(dir.Write("in.mir", original));
        Assert.Equal(0, r.ExitCode);
        var m = Mir.Parse(r.Stdout);
        Assert.Equal(0, m.Resources["e"].Data.Length);
    }

    [MlirOptFact]
    public void AllEqualDenseLiteralPrintsAsMlirOptPrintsIt()
    {
        using var dir = new TempDir();
        var original = Mir.Print(Mir.Parse("""
            module {
              "t.x"() {a = dense<[1.0, 1.0]> : tensor<2xf32>, b = dense<"0x0000803F0000803F"> : tensor<2xf32>} : () -> ()
            }
            """));
        var r = MlirOpt.Run(dir.Write("in.mir", original));
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(original, Mir.Print(Mir.Parse(r.Stdout)));
    }

    [MlirOptFact]
    public void SignlessIntegerAttributePrintsAsMlirOptPrintsIt()
    {
        using var dir = new TempDir();
        var original = Mir.Print(Mir.Parse("""
            module {
              "t.x"() {a = 255 : i8, b = 65535 : i16} : () -> ()
            }
            """));
        var r = MlirOpt.Run(dir.Write("in.mir", original));
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(original, Mir.Print(Mir.Parse(r.Stdout)));
    }

    [MlirOptFact]
    public void LargeBoolDenseFromMlirOptIsReadBack()
    {
        using var dir = new TempDir();
        var values = string.Join(", ", Enumerable.Range(0, 120).Select(i => i % 3 == 0 ? "true" : "false"));
        var original = Mir.Print(Mir.Parse($$"""
            module {
              "t.x"() {a = dense<[{{values}}]> : tensor<120xi1>} : () -> ()
            }
            """));
        var r = MlirOpt.Run(dir.Write("in.mir", original));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("dense<\"0x", r.Stdout); // mlir-opt's own form
        Assert.Equal(original, Mir.Print(Mir.Parse(r.Stdout)));
    }

    [MlirOptFact]
    public void FunctionDeclarationWithArgumentsRoundTrips()
    {
        const string text = """
            module {
              func.func private @decl(tensor<2xf32>, i32) -> tensor<2xf32>
            }

            """;
        using var dir = new TempDir();
        var r = MlirOpt.Run(dir.Write("in.mir", text));
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(text + "\n", r.Stdout); // mlir-opt ends its output with an empty line
        Assert.Equal(r.Stdout, Mir.Print(Mir.Parse(text)));
        Assert.Equal(r.Stdout, Mir.Print(Mir.Parse(r.Stdout)));
    }

    [MlirOptFact]
    public void ResourceKeysMoptPrintsAreAcceptedByMlirOpt()
    {
        var m = MirModule.Create();
        var f = m.AddFunction("main", [], []);
        var b = OpBuilder.AtEnd(f.Body);
        var type = new TensorType(ElementType.F32, [1]);
        // Only bare identifiers are keys: Set refuses others, Add makes one from any hint.
        Assert.Throws<ArgumentException>(() => m.Resources.Set("has space", ResourceBlob.Of(new byte[4])));
        var key = m.Resources.Add("has space", ResourceBlob.Of(new byte[4]));
        Assert.True(ResourceTable.IsValidKey(key), key);
        b.Constant(new DenseResourceAttr(type, key), type);
        b.Return([]);
        Verifier.Verify(m);
        using var dir = new TempDir();
        var printed = Mir.Print(m);
        var r = MlirOpt.Run(dir.Write("in.mir", printed));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(r.Stdout, WithMlirOptEnding(printed));
    }

    [MlirOptFact]
    public void QuotedResourceKeysReadFromAFileAreRenamedToKeysMlirOptAccepts()
    {
        var m = Mir.Parse("""
            module {
              "t.x"() {a = dense_resource<"conv1/weight:0"> : tensor<1xf32>, b = dense_resource<"has space"> : tensor<1xf32>} : () -> ()
            }

            {-#
              dialect_resources: {
                builtin: {
                  "conv1/weight:0": "0x040000000000803F",
                  "has space": "0x0400000000000040"
                }
              }
            #-}
            """);
        Assert.Equal(["conv1_weight_0", "has_space"], m.Resources.Blobs.Select(x => x.Key).OrderBy(k => k, StringComparer.Ordinal));
        var printed = Mir.Print(m);
        Assert.Contains("dense_resource<conv1_weight_0> : tensor<1xf32>", printed);
        using var dir = new TempDir();
        var r = MlirOpt.Run(dir.Write("in.mir", printed));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(r.Stdout, WithMlirOptEnding(printed));
    }
}
