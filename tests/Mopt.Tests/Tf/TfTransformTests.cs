using Google.Protobuf;
using Mopt.Backend.Tf;
using Mopt.Frontend.Tf;
using Mopt.Ir;
using Mopt.Passes;
using Mopt.Passes.Tf;
using Mopt.Tf.Proto;

namespace Mopt.Tests.Tf;

/// <summary>
/// The Graph Transform Tool's string as transform_graph parses it, the quint8 tensors quantize_weights writes (read
/// back by the real protobuf parser), and the StridedSlice folder against slices computed here by hand.
/// </summary>
public sealed class TfTransformTests
{
    [Fact]
    public void ParsesTheIssuesTransformString()
    {
        var list = GttTransformList.Parse("strip_unused_nodes(type=float, shape=\"1,299,299,3\") remove_nodes(op=Identity, op=CheckNumerics)\n" +
            " fold_constants(ignore_errors=true) fold_batch_norms fold_old_batch_norms quantize_weights strip_unused_nodes sort_by_execution_order");
        Assert.Equal(["strip_unused_nodes", "remove_nodes", "fold_constants", "fold_batch_norms", "fold_old_batch_norms", "quantize_weights",
            "strip_unused_nodes", "sort_by_execution_order"], list.Select(t => t.Name));
        Assert.Equal("1,299,299,3", list[0].One("shape"));
        Assert.Equal(["Identity", "CheckNumerics"], list[1].All("op"));
        Assert.Equal("true", list[2].One("ignore_errors"));
        Assert.Empty(list[3].Parameters);
        // A backslash escapes the next character inside quotes; values may hold . / - _.
        Assert.Equal("a\"b", GttTransformList.Parse("t(x=\"a\\\"b\")")[0].One("x"));
        Assert.Equal("-1.5e-3/x_y", GttTransformList.Parse("t(x=-1.5e-3/x_y)")[0].One("x"));
        var e = Assert.Throws<PipelineException>(() => GttTransformList.Parse("t(x=1) u(y)"));
        Assert.StartsWith("--tf-transforms: expected '=' after the parameter 'y' of u (at offset 10)", e.Message);
    }

    [Fact]
    public void QuantizedWeightsAreTensorProtosTensorFlowReads()
    {
        var g = new GraphDef();
        var x = new NodeDef { Name = "x", Op = "Placeholder" };
        x.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        var values = Enumerable.Range(0, 1100).Select(i => (float)Math.Sin(i) * 3).ToArray();
        var content = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, content, 0, content.Length);
        var w = new NodeDef { Name = "w", Op = "Const" };
        w.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = 11 });
        shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = 100 });
        w.Attr["value"] = new AttrValue { Tensor = new TensorProto { Dtype = DataType.DtFloat, TensorShape = shape, TensorContent = ByteString.CopyFrom(content) } };
        var mul = new NodeDef { Name = "y", Op = "Mul" };
        mul.Input.Add("x");
        mul.Input.Add("w");
        g.Node.AddRange([x, w, mul]);

        var module = TfImporter.Import(g, "q.pb");
        new TfQuantizeWeights().Run(module, new PassContext());
        var back = TfExporter.ToGraphDef(module, "q.pb");
        var quantized = back.Node.Single(n => n.Name == "w_quantized_const").Attr["value"].Tensor;
        Assert.Equal(DataType.DtQuint8, quantized.Dtype);
        Assert.Equal([11L, 100L], quantized.TensorShape.Dim.Select(d => d.Size));
        Assert.Equal(1100, quantized.TensorContent.Length);
        var min = back.Node.Single(n => n.Name == "w_quantized_min").Attr["value"].Tensor;
        var max = back.Node.Single(n => n.Name == "w_quantized_max").Attr["value"].Tensor;
        float lo = BitConverter.ToSingle(min.TensorContent.Span), hi = BitConverter.ToSingle(max.TensorContent.Span);
        Assert.Equal(values.Min(), lo);
        Assert.Equal(values.Max(), hi);
        // MIN_FIRST: each byte dequantizes to within one step of the value it stands for.
        double step = (hi - (double)lo) / 255;
        for (int i = 0; i < values.Length; i++)
            Assert.True(Math.Abs(lo + quantized.TensorContent[i] * step - values[i]) <= step, $"value {i}");
        var dequantize = back.Node.Single(n => n.Name == "w");
        Assert.Equal("Dequantize", dequantize.Op);
        Assert.Equal(["w_quantized_const", "w_quantized_min", "w_quantized_max"], dequantize.Input);
        Assert.Equal("MIN_FIRST", dequantize.Attr["mode"].S.ToStringUtf8());
        Assert.Equal(DataType.DtQuint8, dequantize.Attr["T"].Type);
    }

    [Theory]
    // x = [0, 1, 2, 3, 4, 5]: x[1:5:2], x[::-1] (begin_mask and end_mask), x[-2:] (negative begin, end_mask),
    // x[4:1:-1], x[3] (shrink_axis_mask), x[10:20] (clamped: empty)
    [InlineData(1, 5, 2, 0, 0, 0, new long[] { 1, 3 })]
    [InlineData(0, 0, -1, 1, 1, 0, new long[] { 5, 4, 3, 2, 1, 0 })]
    [InlineData(-2, 0, 1, 0, 1, 0, new long[] { 4, 5 })]
    [InlineData(4, 1, -1, 0, 0, 0, new long[] { 4, 3, 2 })]
    [InlineData(3, 4, 1, 0, 0, 1, new long[] { 3 })]
    [InlineData(10, 20, 1, 0, 0, 0, new long[0])]
    public void StridedSliceFoldsAsTensorFlowSlices(int begin, int end, int stride, int beginMask, int endMask, int shrinkMask, long[] expected)
    {
        var text = $$"""
            module {
              func.func @main() -> (!tf.tensor {mo.name = "y"}) {
                %x = "tf.Const"() {dtype = i32, value = dense<[0, 1, 2, 3, 4, 5]> : tensor<6xi32>} : () -> tensor<6xi32>
                %b = "tf.Const"() {dtype = i32, value = dense<[{{begin}}]> : tensor<1xi32>} : () -> tensor<1xi32>
                %e = "tf.Const"() {dtype = i32, value = dense<[{{end}}]> : tensor<1xi32>} : () -> tensor<1xi32>
                %s = "tf.Const"() {dtype = i32, value = dense<[{{stride}}]> : tensor<1xi32>} : () -> tensor<1xi32>
                %y = "tf.StridedSlice"(%x, %b, %e, %s) {begin_mask = {{beginMask}} : i64, end_mask = {{endMask}} : i64, shrink_axis_mask = {{shrinkMask}} : i64} : (tensor<6xi32>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> !tf.tensor loc("y")
                return %y : !tf.tensor
              }
            }
            """;
        var module = Mopt.Ir.Parsing.MirReader.ParseText(text, "slice.mir");
        new TfFoldConstants().Run(module, new PassContext());
        var folded = module.MainFunction.Return!.GetOperand(0);
        var value = TfGraph.ConstValue(folded, module) ?? throw new InvalidOperationException("not folded");
        Assert.Equal(expected, value.ToInt64s());
        Assert.Equal(shrinkMask != 0 ? 0 : 1, value.Type.Rank);
    }
}
