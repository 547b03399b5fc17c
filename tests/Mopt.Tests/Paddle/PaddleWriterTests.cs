using Google.Protobuf;
using Mopt.Frontend.Paddle;
using Mopt.Paddle.Proto;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Issue 14 item 4, for modules in paddle.*: the written program re-imports to the same IR, and matches the real files
/// field for field (vars, persistable flags, feed/fetch layout, version and op_version_map; attributes as a set, since
/// Paddle writes them in hash order); the combined parameters are the real records, byte for byte.
/// </summary>
public sealed class PaddleWriterTests
{
    private static string Models => Path.Combine(TestPaths.SharedModels, "paddle");

    public static TheoryData<string> Real() => new() { "paddle2onnx_fit_a_line", "paddlelite_simple_model/model.pdmodel", "paddlemobile_resnet_cifar" };

    private static string Opt(params string[] args)
    {
        var (exit, stdout, stderr) = Mir.Opt(args);
        Assert.True(exit == 0, $"mopt-opt {string.Join(" ", args)}: {stderr}");
        return stdout;
    }

    [SharedModelsTheory]
    [MemberData(nameof(Real))]
    public void WrittenModelReimportsToTheSameIr(string name)
    {
        using var dir = new TempDir();
        var source = Path.Combine(Models, name);
        var written = dir.File("m.pdmodel");
        Opt(source, "-o", written);
        Assert.True(File.Exists(dir.File("m.pdiparams")));
        Assert.Equal(Opt(source), Opt(written));
        // and the folder layout
        Opt(source, "-o", dir.File("folder") + "/");
        Assert.True(File.Exists(dir.File("folder/__model__")) && File.Exists(dir.File("folder/__params__")));
        Assert.Equal(Opt(source), Opt(dir.File("folder")));
    }

    [SharedModelsTheory]
    [MemberData(nameof(Real))]
    public void WrittenProgramMatchesTheRealOneFieldForField(string name)
    {
        using var dir = new TempDir();
        var original = PaddleModelFiles.Read(Path.Combine(Models, name));
        Opt(Path.Combine(Models, name), "-o", dir.File("m.pdmodel"));
        var written = PaddleModelFiles.Read(dir.File("m.pdmodel"));
        var (a, b) = (original.Program, written.Program);
        Assert.Equal(a.Version, b.Version);
        // op_version_map and attributes come from hash maps in Paddle's files: compared as sets
        Assert.Equal(Pairs(a), Pairs(b));
        Assert.Single(b.Blocks);
        var (va, vb) = (Vars(a.Blocks[0]), Vars(b.Blocks[0]));
        Assert.True(va.SequenceEqual(vb), $"vars differ: only in the real file {string.Join("; ", va.Except(vb).Take(3))}; only in the written one {string.Join("; ", vb.Except(va).Take(3))}");
        Assert.Equal(a.Blocks[0].Ops.Count, b.Blocks[0].Ops.Count);
        for (int i = 0; i < a.Blocks[0].Ops.Count; i++)
        {
            var (x, y) = (a.Blocks[0].Ops[i], b.Blocks[0].Ops[i]);
            Assert.Equal(x.Type, y.Type);
            Assert.Equal(x.Inputs, y.Inputs);
            Assert.Equal(x.Outputs, y.Outputs);
            Assert.Equal(x.IsTarget, y.IsTarget);
            Assert.Equal(Attrs(x), Attrs(y));
        }
        // the parameters: the same records, byte for byte (the combined file is the real one when there was one)
        foreach (var (param, record) in original.Parameters)
            Assert.Equal(record.Data.ToArray(), written.Parameters[param].Data.ToArray());
        if (name.EndsWith(".pdmodel", StringComparison.Ordinal))
            Assert.Equal(File.ReadAllBytes(Path.ChangeExtension(Path.Combine(Models, name), ".pdiparams")), File.ReadAllBytes(dir.File("m.pdiparams")));
    }

    private static List<string> Pairs(ProgramDesc p) =>
        p.OpVersionMap?.Pair.Select(x => $"{x.OpName}:{x.OpVersion.Version}").Order(StringComparer.Ordinal).ToList() ?? [];

    private static List<string> Vars(BlockDesc block) => block.Vars.Select(v => v.ToString()).Order(StringComparer.Ordinal).ToList();

    private static List<string> Attrs(OpDesc op) =>
        op.Attrs.Where(a => a.Name != PaddleAttributes.CallStack).Select(a => a.ToString()).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void ReshapeGetsItsXShapeBack()
    {
        using var dir = new TempDir();
        var program = new PaddleTestProgram().Feed("x", [-1, 6]).Var("y", [-1, 2, 3]).Var("xs", [0, -1, 6])
            .Add("reshape2", [("X", ["x"])], [("Out", ["y"]), ("XShape", ["xs"])], PaddleTestProgram.A.Ints("shape", 0, 2, 3)).Fetch("y");
        var model = program.Write(dir.Path);
        Opt(model, "-o", dir.File("out.pdmodel"));
        var op = PaddleModelFiles.Read(dir.File("out.pdmodel")).Program.Blocks[0].Ops.Single(o => o.Type == "reshape2");
        Assert.Equal(["Out", "XShape"], op.Outputs.Select(o => o.Parameter));
        var xshape = PaddleModelFiles.Read(dir.File("out.pdmodel")).Program.Blocks[0].Vars.Single(v => v.Name == op.Outputs[1].Arguments[0]);
        Assert.Equal([0L, -1, 6], xshape.Type.LodTensor.Tensor.Dims);
    }

    /// <summary>
    /// A Caffe layer names its weights and its output alike (mtcnn's conv1): the parameter takes another name, since
    /// Paddle would run the op into the parameter's var; each var is declared with the type its writer gives it.
    /// </summary>
    [Fact]
    public void AnOutputNeverWritesOverAVarItDoesNotRead()
    {
        using var dir = new TempDir();
        var mir = dir.Write("m.mir", """
            module {
              func.func @main(%x: tensor<1x2xf32> {mo.name = "x"}) -> (tensor<1x3xf32> {mo.name = "y"}) {
                %w = "onnx.Constant"() {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>} : () -> tensor<2x3xf32> loc("fc")
                %0 = "onnx.MatMul"(%x, %w) {mo.outputs = ["fc"]} : (tensor<1x2xf32>, tensor<2x3xf32>) -> tensor<1x3xf32> loc("fc")
                %1 = "onnx.Relu"(%0) {mo.outputs = ["fc"]} : (tensor<1x3xf32>) -> tensor<1x3xf32> loc("relu")
                return %1 : tensor<1x3xf32>
              }
            }
            """);
        Opt(mir, "-o", dir.File("m.pdmodel"));
        var block = PaddleModelFiles.Read(dir.File("m.pdmodel")).Program.Blocks[0];
        var vars = block.Vars.ToDictionary(v => v.Name);
        // the weights give way: the outputs keep the names users fetch
        var weights = block.Ops.Single(o => o.Type == "matmul_v2").Inputs.Single(v => v.Parameter == "Y").Arguments.Single();
        Assert.Equal("fc_1", weights);
        Assert.Equal([2L, 3], vars[weights].Type.LodTensor.Tensor.Dims);
        Assert.True(vars[weights].Persistable);
        foreach (var op in block.Ops.Where(o => o.Type is not ("feed" or "fetch")))
        {
            var reads = op.Inputs.SelectMany(v => v.Arguments).ToHashSet();
            foreach (var output in op.Outputs.SelectMany(v => v.Arguments))
                Assert.False(vars[output].Persistable && !reads.Contains(output), $"{op.Type} writes parameter '{output}'");
        }
        var matmul = block.Ops.Single(o => o.Type == "matmul_v2").Outputs.Single().Arguments.Single();
        Assert.Equal("fc", matmul);
        Assert.Equal([1L, 3], vars[matmul].Type.LodTensor.Tensor.Dims);
        // the relu writes in place over its own input, of the same type, as Caffe's in-place layers do
        Assert.Equal(matmul, block.Ops.Single(o => o.Type == "relu").Outputs.Single().Arguments.Single());
        var onnx = dir.File("back.onnx");
        Opt(dir.File("m.pdmodel"), "-o", onnx);
        using var ort = new Mopt.Backend.Runtime.OrtRunner(File.ReadAllBytes(onnx));
        var y = ort.Run(new Dictionary<string, Mopt.Backend.Runtime.NpyArray> { ["x"] = new(Mopt.Ir.ElementType.F32, [1, 2], System.Runtime.InteropServices.MemoryMarshal.AsBytes(new float[] { 2, -0.25f }.AsSpan()).ToArray()) });
        Assert.Equal(new float[] { 1, 2.75f, 4.5f }, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(y.Values.Single().Data).ToArray());
    }

    [Fact]
    public void OpOfAnotherDialectIsNotWritten()
    {
        using var dir = new TempDir();
        var mir = dir.Write("m.mir", """
            module {
              func.func @main(%x: tensor<2xf32> {mo.name = "x"}) -> (tensor<2xf32> {mo.name = "y"}) {
                %0 = "mxnet.Activation"(%x) : (tensor<2xf32>) -> tensor<2xf32> loc("act")
                return %0 : tensor<2xf32>
              }
            }
            """);
        var output = dir.File("m.pdmodel");
        var (exit, _, stderr) = Mir.Opt([mir, "-o", output]);
        Assert.Equal(1, exit);
        Assert.Contains("mxnet.Activation (act) is not a Paddle op: writing Paddle takes a module in paddle.*", stderr);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(dir.File("m.pdiparams")));
    }
}
