using Mopt.Ir;

namespace Mopt.Tests.Dialects;

/// <summary>
/// The typed views scripts/gen-onnx-ops.py writes (OnnxViews.Generated.cs), as ODS's accessors: operands by their
/// names in ONNX's specification, attributes typed with the specification's default when absent, and a malformed
/// attribute an error naming the op, never a default.
/// </summary>
public sealed class OnnxViewTests
{
    private static List<Operation> Ops(string body, string args = "%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>") =>
        Mir.Parse($$"""
            module {
              func.func @main({{args}}) {
                {{body}}
                return
              }
            }
            """).MainFunction.Body.Operations.ToList();

    [Fact]
    public void AbsentAttributesReadAsTheSpecificationsDefaults()
    {
        var conv = new ConvOp(Ops("""%y = "onnx.Conv"(%x, %w) : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>""")[0]);
        Assert.Equal(1, conv.Group);
        Assert.Equal("NOTSET", conv.AutoPad);
        Assert.Null(conv.Pads);
        Assert.Null(conv.B);
        Assert.Same(conv.Op.GetOperand(1), conv.W);
        Assert.Same(conv.Op.Results[0], conv.Y);
    }

    [Fact]
    public void PresentAttributesAreReadTyped()
    {
        var op = Ops("""
            %y = "onnx.Conv"(%x, %w) {group = 2 : i64, auto_pad = "SAME_UPPER", pads = [0, 1, 0, 1], strides = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
            """)[0];
        var conv = new ConvOp(op);
        Assert.Equal(2, conv.Group);
        Assert.Equal("SAME_UPPER", conv.AutoPad);
        Assert.Equal(new long[] { 0, 1, 0, 1 }, conv.Pads);
        Assert.Equal(new long[] { 2, 2 }, conv.Strides);
        var gemm = new GemmOp(op);
        Assert.Equal(1.0, gemm.Alpha); // a float default, as float32 writes it
        Assert.Equal(0.00001f, new BatchNormalizationOp(op).Epsilon);
    }

    [Fact]
    public void AMalformedAttributeIsAnErrorNamingTheOpNeverADefault()
    {
        var conv = new ConvOp(Ops("""
            %y = "onnx.Conv"(%x, %w) {group = "two"} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32> loc("conv1")
            """)[0]);
        var e = Assert.Throws<MirException>(() => conv.Group);
        Assert.Contains("'onnx.Conv' (conv1): attribute 'group' must be an integer", e.Message);
    }

    [Fact]
    public void OptionalOperandsAreNullWhenOmittedOrNoValue()
    {
        var ops = Ops("""
            %none = "onnx.NoValue"() : () -> none
            %c1 = "onnx.Clip"(%x, %none, %x) : (tensor<1x2x4x4xf32>, none, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
            %c2 = "onnx.Clip"(%x) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
            """);
        var withMax = new ClipOp(ops[1]);
        Assert.Null(withMax.Min);
        Assert.Same(ops[1].GetOperand(2), withMax.Max);
        var bare = new ClipOp(ops[2]);
        Assert.Null(bare.Min);
        Assert.Null(bare.Max);
        // Clip-6's min attribute and Clip-11's min operand are both there, under different names.
        Assert.Equal(-3.4028235e+38f, bare.MinAttribute);
    }

    [Fact]
    public void VariadicOperandsAndResultsAreLists()
    {
        var ops = Ops("""
            %c = "onnx.Concat"(%x, %x, %x) {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x6x4x4xf32>
            %s:2 = "onnx.Split"(%c) {axis = 1 : i64} : (tensor<1x6x4x4xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>)
            """);
        var concat = new ConcatOp(ops[0]);
        Assert.Equal(3, concat.Inputs.Count);
        Assert.Equal(1L, concat.Axis);
        var split = new SplitOp(ops[1]);
        Assert.Equal(2, split.Outputs.Count);
        Assert.Null(split.Split);
        Assert.Null(split.SplitAttribute);
    }

    [Fact]
    public void IsAndTryGetRecognizeTheirOpOnly()
    {
        var ops = Ops("""%r = "onnx.Relu"(%x) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>""");
        Assert.True(ReluOp.Is(ops[0]));
        Assert.False(ConvOp.Is(ops[0]));
        Assert.Null(ConvOp.TryGet(ops[0]));
        Assert.Equal(ops[0], ReluOp.TryGet(ops[0])!.Value.Op);
        Assert.Equal("onnx.Relu", ReluOp.OpName);
    }
}
