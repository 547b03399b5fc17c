using Mopt.Frontend.Paddle;
using Mopt.Ir;
using Mopt.Paddle.Proto;
using static Mopt.Tests.Paddle.PaddleTestProgram;

namespace Mopt.Tests.Paddle;

/// <summary>Issue 14 item 2: a ProgramDesc into <c>paddle.*</c> (slots, every AttrType, feed/fetch, XShape), and its errors.</summary>
public sealed class PaddleImporterTests
{
    private static string Print(MirModule m) => Mopt.Ir.Printing.MirPrinter.PrintToString(m);

    private static PaddleTestProgram TwoInputs() => new PaddleTestProgram()
        .Feed("a", [-1, 4]).Feed("b", [-1, 4]).Var("sum", [-1, 4]).Var("out", [-1, 4]).Var("shape", [0, 4])
        .Parameter("w", [4], [1, 2, 3, 4])
        .Add("elementwise_add", [("X", ["a"]), ("Y", ["b"])], [("Out", ["sum"])], A.Int("axis", -1))
        .Add("elementwise_mul", [("X", ["sum"]), ("Y", ["w"])], [("Out", ["out"])], A.Int("axis", 1))
        .Add("reshape2", [("X", ["out"])], [("Out", ["out"]), ("XShape", ["shape"])], A.Ints("shape", 0, 4))
        .Fetch("out").Fetch("sum");

    [Fact]
    public void FeedsAreArgumentsAndFetchesResultsInColOrder()
    {
        using var dir = new TempDir();
        var program = TwoInputs();
        // Paddle may list the feeds in any order: col decides.
        var b = program.Program.Blocks[0].Ops[1];
        program.Program.Blocks[0].Ops.RemoveAt(1);
        program.Program.Blocks[0].Ops.Insert(0, b);
        var text = Print(PaddleImporter.ImportPath(program.Write(dir.Path)));
        Assert.Contains("func.func @main(%arg0: tensor<?x4xf32> {mo.name = \"a\"}, %arg1: tensor<?x4xf32> {mo.name = \"b\"}) -> (tensor<?x4xf32> {mo.name = \"out\"}, tensor<?x4xf32> {mo.name = \"sum\"})", text);
        Assert.Contains("\"paddle.elementwise_add\"(%arg0, %arg1) {axis = -1 : i32, mo.outputs = [\"sum\"], paddle.inputs = {X = 1 : i32, Y = 1 : i32}, paddle.outputs = {Out = 1 : i32}}", text);
        // the parameter is a constant of its bytes, named after it; the in-place reshape2 makes a fresh value, its XShape is dropped
        Assert.Contains("\"onnx.Constant\"() {value = dense_resource<w> : tensor<4xf32>} : () -> tensor<4xf32> loc(\"w\")", text);
        Assert.Contains("\"paddle.reshape2\"(%2) {mo.outputs = [\"out\"], paddle.inputs = {X = 1 : i32}, paddle.outputs = {Out = 1 : i32}, shape = array<i32: 0, 4>} : (tensor<?x4xf32>) -> tensor<?x4xf32> loc(\"out\")", text);
        Assert.Contains("return %3, %1 : tensor<?x4xf32>, tensor<?x4xf32>", text);
        Assert.Contains("paddle.version = 2004002 : i64", text);
    }

    [Fact]
    public void EveryAttrTypeKeepsItsForm()
    {
        using var dir = new TempDir();
        var program = new PaddleTestProgram().Feed("x", [2]).Var("y", [2])
            .Add("custom_op", [("X", ["x"])], [("Out", ["y"])],
                A.Int("i", 7), A.Long("l", 1L << 40), A.Float("f", 0.5f), A.Float64("d", 0.1), A.Bool("b", true), A.String("s", "SAME"),
                A.Ints("is", 1, -1), A.Longs("ls", 3), A.Floats("fs", 1.5f), A.Float64s("ds"), A.Bools("bs", true, false), A.Strings("ss", "a", "b"),
                new OpDesc.Types.Attr { Name = "sub", Type = AttrType.Block, BlockIdx = 1 },
                new OpDesc.Types.Attr { Name = "v", Type = AttrType.Var, VarName = "x" },
                new OpDesc.Types.Attr { Name = "op_callstack", Type = AttrType.Strings, Strings = { "File \"train.py\", line 3" } })
            .Fetch("y");
        var text = Print(PaddleImporter.ImportPath(program.Write(dir.Path)));
        Assert.Contains("b = true, bs = array<i1: true, false>, d = 1.000000e-01 : f64, ds = array<f64>, f = 5.000000e-01 : f32, fs = array<f32: 1.500000e+00>, i = 7 : i32, is = array<i32: 1, -1>, l = 1099511627776 : i64, ls = array<i64: 3>", text);
        Assert.Contains("s = \"SAME\", ss = [\"a\", \"b\"], sub = {block = 1 : i32}, v = {var = \"x\"}", text);
        Assert.DoesNotContain("op_callstack", text);
        // an op mopt does not define imports, as an op no pass may remove
        Assert.Contains("\"paddle.custom_op\"(%arg0)", text);
    }

    [Fact]
    public void UnknownAttrTypeIsAnError()
    {
        using var dir = new TempDir();
        var program = new PaddleTestProgram().Feed("x", [2]).Var("y", [2])
            .Add("relu", [("X", ["x"])], [("Out", ["y"])], new OpDesc.Types.Attr { Name = "odd", Type = (AttrType)42 })
            .Fetch("y");
        var e = Assert.Throws<MirException>(() => PaddleImporter.ImportPath(program.Write(dir.Path)));
        Assert.Contains("op 2 (relu -> 'y'): attribute 'odd' has AttrType 42, which Paddle does not define", e.Message);
    }

    [Fact]
    public void InputNothingWritesIsAnError()
    {
        using var dir = new TempDir();
        var program = new PaddleTestProgram().Feed("x", [2]).Var("y", [2])
            .Add("relu", [("X", ["ghost"])], [("Out", ["y"])]).Fetch("y");
        var e = Assert.Throws<MirException>(() => PaddleImporter.ImportPath(program.Write(dir.Path)));
        Assert.Contains("input X reads 'ghost', which no op before it writes, no feed gives and no parameter holds", e.Message);
    }

    [Fact]
    public void ColsMustNumberTheFeeds()
    {
        using var dir = new TempDir();
        var program = TwoInputs();
        program.Program.Blocks[0].Ops[1].Attrs[0].I = 5;
        var e = Assert.Throws<MirException>(() => PaddleImporter.ImportPath(program.Write(dir.Path)));
        Assert.Contains("the feed ops' col attributes are 0, 5", e.Message);
    }

    [SharedModelsFact]
    public void RealModelsImport()
    {
        var models = Path.Combine(TestPaths.SharedModels, "paddle");
        var resnet = Print(PaddleImporter.ImportPath(Path.Combine(models, "paddlemobile_resnet_cifar")));
        Assert.Equal(33, CountOf(resnet, "\"paddle.conv2d\""));
        Assert.Equal(33, CountOf(resnet, "\"paddle.batch_norm\""));
        Assert.Equal(16, CountOf(resnet, "\"paddle.elementwise_add\""));
        Assert.Equal(167, CountOf(resnet, "\"onnx.Constant\""));
        Assert.Contains("func.func @main(%arg0: tensor<?x3x32x32xf32> {mo.name = \"pixel\"}) -> (tensor<?x10xf32> {mo.name = \"fc_0.tmp_2\"})", resnet);

        var simple = Print(PaddleImporter.ImportPath(Path.Combine(models, "paddlelite_simple_model", "model.pdmodel")));
        // relu's is_test is an INT in this file (a BOOLEAN elsewhere): kept as it is
        Assert.Contains("\"paddle.relu\"(%6#4) {is_test = 1 : i32", simple);
        Assert.Contains("loc(\"batch_norm_0.tmp_2\")", simple);
    }

    private static int CountOf(string text, string what) => (text.Length - text.Replace(what, "").Length) / what.Length;
}
