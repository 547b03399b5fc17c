using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;

namespace Mopt.Tests;

/// <summary>
/// Golden snapshots of printed IR (tests/Mopt.Tests/Golden/). After an intended change to the printer or a
/// pass, run the tests with MOPT_UPDATE_GOLDEN=1 and review the diff.
/// </summary>
public sealed class GoldenTests
{
    [Fact]
    public void ExampleAfterCanonicalizeAndDce()
    {
        using var dir = new TempDir();
        var output = dir.File("out.mir");
        var (exit, _, stderr) = Mir.Opt(Mir.ExamplePath, "--canonicalize", "--dce", "-o", output);
        Assert.True(exit == 0, stderr);
        var text = File.ReadAllText(output);
        Golden.Match("small_cnn.canonicalize-dce.mir", text);

        // What the snapshot is about, independent of it.
        Assert.DoesNotContain("onnx.Identity", text);
        Assert.DoesNotContain("Sigmoid_unused", text);
        Assert.Contains("%21 = \"onnx.Gemm\"(%20, %11, %12)", text);
        Assert.Equal(text, Mir.Print(MirReader.ParseText(text, "golden.mir")));
    }

    [Fact]
    public void ElidedDumpAfterCanonicalize()
    {
        using var dir = new TempDir();
        var (exit, _, stderr) = Mir.Opt(Mir.ExamplePath, "--canonicalize", "--dce", "--print-ir-after=dce",
            "--elide-constants-larger-than=10", "-o", dir.File("out.mir"));
        Assert.Equal(0, exit);
        Golden.Match("small_cnn.elided-dump.mir", stderr);

        var lines = stderr.Split('\n');
        Assert.Equal("// -----// IR Dump After dce //----- //", lines[0]);
        Assert.StartsWith("// mopt: constants with more than 10 elements are elided", lines[1]);
        Assert.Contains("dense_resource<__elided__> : tensor<8x3x3x3xf32>", stderr);
        Assert.Contains("dense_resource<conv1.bias> : tensor<8xf32>", stderr); // 8 elements: kept
        Assert.DoesNotContain("conv1.weight:", stderr); // its blob is left out of the trailer

        // The one form that does not round-trip, and says so when read.
        var dump = string.Join('\n', lines.Skip(1));
        var e = Assert.Throws<MirException>(() => MirReader.ParseText(dump, "dump.mir"));
        Assert.Contains("dense_resource<__elided__>", e.Message);
    }

    [Fact]
    public void ElidedDenseConstantsAndTheFileWrittenWithDumpsStayWhole()
    {
        var m = MirReader.ParseText("""
            module {
              func.func @main() -> tensor<3x4xf32> {
                %0 = "onnx.Constant"() {value = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]]> : tensor<3x4xf32>} : () -> tensor<3x4xf32> loc("big")
                %1 = "onnx.Constant"() {value = dense<0.5> : tensor<3x4xf32>} : () -> tensor<3x4xf32> loc("splat")
                %2 = "onnx.Add"(%0, %1) : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
                return %2 : tensor<3x4xf32>
              }
            }
            """, "dense.mir");
        var elided = MirPrinter.PrintToString(m, new PrintOptions { ElideConstantsLargerThan = 4 });
        Golden.Match("dense.elided.mir", elided);
        Assert.Contains("dense_resource<__elided__> : tensor<3x4xf32>", elided);
        Assert.Contains("dense<5.000000e-01> : tensor<3x4xf32>", elided); // a splat is small whatever its shape
        Assert.DoesNotContain("{-#", elided);

        // The module itself is untouched by printing a dump.
        Assert.Contains("dense<[[1.000000e+00, 2.000000e+00", MirPrinter.PrintToString(m));
    }
}
