using Mopt.Paddle.Proto;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Issue 14 item 8 from the command line: a missing parameter file, a parameter whose size does not match its var, an
/// unknown AttrType and a truncated <c>__params__</c> each give one clear error naming what is wrong, exit status 1, no
/// stack trace, and nothing written (neither the output nor a temporary file beside it), whichever format is written.
/// </summary>
public sealed class PaddleBadInputTests
{
    public static TheoryData<string> Outputs => new() { "out.onnx", "out.pdmodel", "out.mir" };

    /// <summary>Runs mopt-opt on <paramref name="input"/>, writing into an empty folder, and returns its stderr.</summary>
    private static string Refused(string input, string output)
    {
        using var outDir = new TempDir();
        var (exit, stdout, stderr) = Mir.Opt(input, "-o", outDir.File(output));
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("Exception", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Empty(Directory.GetFileSystemEntries(outDir.Path));
        return stderr;
    }

    /// <summary>A two-parameter program (conv weights and bias) in the combined layout.</summary>
    private static PaddleTestProgram ConvProgram() => new PaddleTestProgram()
        .Feed("x", [1, 1, 3, 3])
        .Parameter("conv.w", [2, 1, 1, 1], [1f, -2f])
        .Parameter("conv.b", [2], [0.5f, 0.25f])
        .Var("y", [1, 2, 3, 3]).Var("z", [1, 2, 3, 3])
        .Add("conv2d", [("Input", ["x"]), ("Filter", ["conv.w"])], [("Output", ["y"])],
            PaddleTestProgram.A.Ints("strides", 1, 1), PaddleTestProgram.A.Ints("paddings", 0, 0),
            PaddleTestProgram.A.Ints("dilations", 1, 1), PaddleTestProgram.A.Int("groups", 1))
        .Add("elementwise_add", [("X", ["y"]), ("Y", ["conv.b"])], [("Out", ["z"])], PaddleTestProgram.A.Int("axis", 1))
        .Fetch("z");

    [Theory]
    [MemberData(nameof(Outputs))]
    public void TheProgramItselfIsWellFormed(string output)
    {
        using var dir = new TempDir();
        var model = ConvProgram().Write(dir.Path);
        using var outDir = new TempDir();
        var (exit, _, stderr) = Mir.Opt(model, "-o", outDir.File(output));
        Assert.True(exit == 0, stderr);
        Assert.True(File.Exists(outDir.File(output)));
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void MissingParameterFileIsNamed(string output)
    {
        using var dir = new TempDir();
        var model = ConvProgram().Write(dir.Path);
        var folder = Directory.CreateDirectory(dir.File("separate")).FullName;
        File.Move(model, Path.Combine(folder, "__model__"));
        // one file per parameter, as Paddle's save_inference_model without params_filename writes them; conv.b is lost
        File.WriteAllBytes(Path.Combine(folder, "conv.w"), PaddleModelFilesTests.Record(VarType.Types.Type.Fp32, [2, 1, 1, 1], Floats(1f, -2f)));
        var stderr = Refused(folder, output);
        Assert.Contains("parameter 'conv.b' has no file", stderr);
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void ParameterOfAnotherSizeIsNamed(string output)
    {
        using var dir = new TempDir();
        var model = ConvProgram().Write(dir.Path);
        var records = PaddleModelFilesTests.Record(VarType.Types.Type.Fp32, [3], Floats(0.5f, 0.25f, 1f))
            .Concat(PaddleModelFilesTests.Record(VarType.Types.Type.Fp32, [2, 1, 1, 1], Floats(1f, -2f))).ToArray();
        File.WriteAllBytes(Path.ChangeExtension(model, ".pdiparams"), records);
        var stderr = Refused(model, output);
        Assert.Contains("parameter 'conv.b' in model.pdiparams is FP32 [3], but the program declares it FP32 [2]", stderr);
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void UnknownAttrTypeIsNamed(string output)
    {
        using var dir = new TempDir();
        var program = ConvProgram();
        program.Program.Blocks[0].Ops.Single(o => o.Type == "conv2d").Attrs.Add(new OpDesc.Types.Attr { Name = "odd", Type = (AttrType)42 });
        var stderr = Refused(program.Write(dir.Path), output);
        Assert.Contains("(conv2d -> 'y'): attribute 'odd' has AttrType 42, which Paddle does not define", stderr);
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void TruncatedCombinedParametersAreNamed(string output)
    {
        using var dir = new TempDir();
        var model = ConvProgram().Write(dir.Path);
        var parameters = Path.ChangeExtension(model, ".pdiparams");
        File.WriteAllBytes(parameters, File.ReadAllBytes(parameters)[..^3]);
        var stderr = Refused(model, output);
        Assert.Contains("'conv.w' in model.pdiparams", stderr);
        Assert.Contains("truncated", stderr);
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void TruncatedParamsOfAModelFolderAreNamed(string output)
    {
        using var dir = new TempDir();
        var model = ConvProgram().Write(dir.Path);
        var folder = Directory.CreateDirectory(dir.File("combined")).FullName;
        File.Move(model, Path.Combine(folder, "__model__"));
        var bytes = File.ReadAllBytes(Path.ChangeExtension(model, ".pdiparams"));
        // the first record (conv.b) whole, the second (conv.w) cut inside its data
        File.WriteAllBytes(Path.Combine(folder, "__params__"), bytes[..^2]);
        var stderr = Refused(folder, output);
        Assert.Contains("'conv.w' in __params__", stderr);
        Assert.Contains("truncated", stderr);
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }
}
