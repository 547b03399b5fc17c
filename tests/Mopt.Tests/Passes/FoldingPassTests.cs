using Mopt.Backend.Onnx;
using Mopt.Backend.Runtime;
using Mopt.Frontend;
using Mopt.Ir;
using Mopt.Passes;
using Mopt.Tests.Numeric;

namespace Mopt.Tests.Passes;

/// <summary>
/// --fold-constants, --dedupe-constants and --cse: each rewritten model, run in ONNX Runtime, gives what the original
/// gives (the folded ops are evaluated by ONNX Runtime in the original and by mopt in the rewrite, so these tests
/// pit every native evaluator against ONNX Runtime), and the rewrite is the one expected.
/// </summary>
public sealed class FoldingPassTests
{
    private static string Module(string signature, string body, int opset = 17) => $$"""
        module attributes {onnx.opset = {{opset}} : i64} {
          func.func @main{{signature}} {
        {{body}}
          }
        }
        """;

    private static PassRun RunOf(Numerics.Result result, string pass) => result.Runs.Single(r => r.Pass.Name == pass);

    private static long Counter(PassRun run, string name) => run.Context.Counters.FirstOrDefault(kv => kv.Key == name).Value;

    // ------------------------------------------------------------------ shape subgraphs as PyTorch exports them

    /// <summary>x.view(x.size(0), -1) with the ONNX names and unranked intermediate types of an import.</summary>
    private static string FlattenByView(string inputType, string outputType) => Module(
        $"(%x: {inputType} {{mo.name = \"input\"}}) -> ({outputType} {{mo.name = \"output\"}})", $$"""
            %shape = "onnx.Shape"(%x) {mo.outputs = ["/Shape_output_0"]} : ({{inputType}}) -> tensor<*xi64> loc("/Shape")
            %c0 = "onnx.Constant"() {mo.node, mo.outputs = ["/Constant_output_0"], value = dense<0> : tensor<i64>} : () -> tensor<i64> loc("/Constant")
            %g0 = "onnx.Gather"(%shape, %c0) {axis = 0 : i64, mo.outputs = ["/Gather_output_0"]} : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64> loc("/Gather")
            %c1 = "onnx.Constant"() {mo.node, value = dense<1> : tensor<i64>} : () -> tensor<i64> loc("/Constant_1")
            %g1 = "onnx.Gather"(%shape, %c1) {axis = 0 : i64} : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64> loc("/Gather_1")
            %c2 = "onnx.Constant"() {mo.node, value = dense<2> : tensor<i64>} : () -> tensor<i64> loc("/Constant_2")
            %g2 = "onnx.Gather"(%shape, %c2) {axis = 0 : i64} : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64> loc("/Gather_2")
            %c3 = "onnx.Constant"() {mo.node, value = dense<3> : tensor<i64>} : () -> tensor<i64> loc("/Constant_3")
            %g3 = "onnx.Gather"(%shape, %c3) {axis = 0 : i64} : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64> loc("/Gather_3")
            %m0 = "onnx.Mul"(%g1, %g2) : (tensor<*xi64>, tensor<*xi64>) -> tensor<*xi64> loc("/Mul")
            %m1 = "onnx.Mul"(%m0, %g3) : (tensor<*xi64>, tensor<*xi64>) -> tensor<*xi64> loc("/Mul_1")
            %axes = "onnx.Constant"() {mo.node, value = dense<0> : tensor<1xi64>} : () -> tensor<1xi64> loc("/Constant_4")
            %u0 = "onnx.Unsqueeze"(%g0, %axes) : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64> loc("/Unsqueeze")
            %u1 = "onnx.Unsqueeze"(%m1, %axes) : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64> loc("/Unsqueeze_1")
            %cat = "onnx.Concat"(%u0, %u1) {axis = 0 : i64, mo.outputs = ["/Concat_output_0"]} : (tensor<*xi64>, tensor<*xi64>) -> tensor<*xi64> loc("/Concat")
            %y = "onnx.Reshape"(%x, %cat) {mo.outputs = ["output"]} : ({{inputType}}, tensor<*xi64>) -> {{outputType}} loc("/Reshape")
            return %y : {{outputType}}
        """);

    [Fact]
    public void StaticBatchShapeChainFoldsToOneConstant()
    {
        var result = Numerics.AssertPreserves(FlattenByView("tensor<2x3x4x5xf32>", "tensor<2x60xf32>"), "fold-constants", tolerance: 0);
        var after = result.After;
        foreach (var op in new[] { "onnx.Shape", "onnx.Gather", "onnx.Mul", "onnx.Unsqueeze", "onnx.Concat" })
            Assert.Equal(0, Numerics.Count(after, op));
        var reshape = after.AllOperations().Single(o => o.Name == "onnx.Reshape");
        var shape = Constants.TryGet(reshape.GetOperand(1), after);
        Assert.NotNull(shape);
        Assert.Equal([2L, 60L], shape.ToInt64s());
        var constant = ((OpResult)reshape.GetOperand(1)).Owner;
        Assert.Equal(Location.Named("/Concat"), constant.Location);

        // Exported, the folded shape is an initializer under the Concat's tensor name, and the output keeps its name.
        var graph = OnnxExporter.ToModel(after).Graph;
        Assert.Contains(graph.Initializer, t => t.Name == "/Concat_output_0");
        Assert.Equal("output", Assert.Single(graph.Output).Name);
        Assert.Equal(10, Counter(RunOf(result, "fold-constants"), "folded"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void DynamicBatchShapeChainKeepsTheDynamicDimension(int batch)
    {
        var module = Mir.Parse(FlattenByView("tensor<?x3x4x5xf32>", "tensor<?x60xf32>"));
        var result = Numerics.RunPasses(module, "fold-constants", dynamicDim: batch);
        Assert.All(result.Differences, d => Assert.Equal(0, d.MaxRelDiff));
        var after = result.After;
        // The batch stays dynamic: Shape, its Gather and Unsqueeze remain; the static dims folded to 3·4·5.
        Assert.Equal(1, Numerics.Count(after, "onnx.Shape"));
        Assert.Equal(1, Numerics.Count(after, "onnx.Gather"));
        Assert.Equal(0, Numerics.Count(after, "onnx.Mul"));
        var concat = after.AllOperations().Single(o => o.Name == "onnx.Concat");
        Assert.Equal([60L], Constants.TryGet(concat.GetOperand(1), after)!.ToInt64s());
        Assert.False(Constants.IsConstant(concat.GetOperand(0)));
    }

    [Fact]
    public void PartlyStaticShapeOfUnrankedTensorIsKept()
    {
        var text = Module("(%x: tensor<*xf32>) -> tensor<*xi64>", """
            %s = "onnx.Shape"(%x) : (tensor<*xf32>) -> tensor<*xi64>
            return %s : tensor<*xi64>
        """);
        var m = Mir.Parse(text);
        var context = new PassContext(services: TestRuntime.Services);
        new FoldConstants().Run(m, context);
        Assert.Equal(1, Numerics.Count(m, "onnx.Shape"));
        Assert.Equal("nothing changed", context.Summarize());
    }

    // ------------------------------------------------------------------ each op, native against ONNX Runtime

    /// <summary>Op cases: a body defining %r from constants (and %x: tensor&lt;2x3xf32&gt; for the shape ops), its type, the opset.</summary>
    private static readonly Dictionary<string, (string Type, string Body, int Opset)> OpCases = new()
    {
        ["Shape"] = ("tensor<2xi64>", """%r = "onnx.Shape"(%x) : (tensor<2x3xf32>) -> tensor<2xi64>""", 17),
        ["Shape start end"] = ("tensor<1xi64>", """%r = "onnx.Shape"(%x) {start = -1 : i64, end = 5 : i64} : (tensor<2x3xf32>) -> tensor<1xi64>""", 17),
        ["Size"] = ("tensor<i64>", """%r = "onnx.Size"(%x) : (tensor<2x3xf32>) -> tensor<i64>""", 17),
        ["Gather axis 1 negative"] = ("tensor<2x2xf32>", """
            %d = "onnx.Constant"() {value = dense<[[1.5, 2.5, 3.5], [4.5, 5.5, 6.5]]> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
            %i = "onnx.Constant"() {value = dense<[-1, 0]> : tensor<2xi32>} : () -> tensor<2xi32>
            %r = "onnx.Gather"(%d, %i) {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<2x2xf32>
            """, 17),
        ["Gather scalar index"] = ("tensor<i64>", """
            %d = "onnx.Constant"() {value = dense<[7, 8, 9]> : tensor<3xi64>} : () -> tensor<3xi64>
            %i = "onnx.Constant"() {value = dense<2> : tensor<i64>} : () -> tensor<i64>
            %r = "onnx.Gather"(%d, %i) : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
            """, 17),
        ["Concat"] = ("tensor<2x5xf16>", """
            %a = "onnx.Constant"() {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf16>} : () -> tensor<2x2xf16>
            %b = "onnx.Constant"() {value = dense<[[5.0, 6.0, 7.0], [8.0, 9.0, 10.0]]> : tensor<2x3xf16>} : () -> tensor<2x3xf16>
            %r = "onnx.Concat"(%a, %b) {axis = -1 : i64} : (tensor<2x2xf16>, tensor<2x3xf16>) -> tensor<2x5xf16>
            """, 17),
        ["Unsqueeze axes input"] = ("tensor<1x3x1xi64>", """
            %d = "onnx.Constant"() {value = dense<[1, 2, 3]> : tensor<3xi64>} : () -> tensor<3xi64>
            %a = "onnx.Constant"() {value = dense<[0, -1]> : tensor<2xi64>} : () -> tensor<2xi64>
            %r = "onnx.Unsqueeze"(%d, %a) : (tensor<3xi64>, tensor<2xi64>) -> tensor<1x3x1xi64>
            """, 17),
        ["Unsqueeze axes attribute (opset 11)"] = ("tensor<3x1xi64>", """
            %d = "onnx.Constant"() {value = dense<[1, 2, 3]> : tensor<3xi64>} : () -> tensor<3xi64>
            %r = "onnx.Unsqueeze"(%d) {axes = [1]} : (tensor<3xi64>) -> tensor<3x1xi64>
            """, 11),
        ["Squeeze axes input"] = ("tensor<3xf32>", """
            %d = "onnx.Constant"() {value = dense<[[[1.0], [2.0], [3.0]]]> : tensor<1x3x1xf32>} : () -> tensor<1x3x1xf32>
            %a = "onnx.Constant"() {value = dense<[0, 2]> : tensor<2xi64>} : () -> tensor<2xi64>
            %r = "onnx.Squeeze"(%d, %a) : (tensor<1x3x1xf32>, tensor<2xi64>) -> tensor<3xf32>
            """, 17),
        ["Squeeze all (opset 11)"] = ("tensor<3xf32>", """
            %d = "onnx.Constant"() {value = dense<[[[1.0], [2.0], [3.0]]]> : tensor<1x3x1xf32>} : () -> tensor<1x3x1xf32>
            %r = "onnx.Squeeze"(%d) : (tensor<1x3x1xf32>) -> tensor<3xf32>
            """, 11),
        ["Reshape -1 and 0"] = ("tensor<2x3x1xi32>", """
            %d = "onnx.Constant"() {value = dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi32>} : () -> tensor<6xi32>
            %s0 = "onnx.Constant"() {value = dense<[2, -1]> : tensor<2xi64>} : () -> tensor<2xi64>
            %a = "onnx.Reshape"(%d, %s0) : (tensor<6xi32>, tensor<2xi64>) -> tensor<2x3xi32>
            %s1 = "onnx.Constant"() {value = dense<[0, 0, 1]> : tensor<3xi64>} : () -> tensor<3xi64>
            %r = "onnx.Reshape"(%a, %s1) : (tensor<2x3xi32>, tensor<3xi64>) -> tensor<2x3x1xi32>
            """, 17),
        ["Transpose 3-D"] = ("tensor<4x2x3xf32>", """
            %d = "onnx.Constant"() {value = dense<[[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]], [[12.0, 13.0, 14.0, 15.0], [16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0]]]> : tensor<2x3x4xf32>} : () -> tensor<2x3x4xf32>
            %r = "onnx.Transpose"(%d) {perm = [2, 0, 1]} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
            """, 17),
        ["Transpose default"] = ("tensor<3x2xi8>", """
            %d = "onnx.Constant"() {value = dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi8>} : () -> tensor<2x3xi8>
            %r = "onnx.Transpose"(%d) : (tensor<2x3xi8>) -> tensor<3x2xi8>
            """, 17),
        ["Cast f32 to i32"] = ("tensor<6xi32>", """
            %d = "onnx.Constant"() {value = dense<[1.7, -1.7, 2.5, -0.5, 100000.9, -3.0]> : tensor<6xf32>} : () -> tensor<6xf32>
            %r = "onnx.Cast"(%d) {to = 6 : i64} : (tensor<6xf32>) -> tensor<6xi32>
            """, 17),
        ["Cast i64 to f32"] = ("tensor<4xf32>", """
            %d = "onnx.Constant"() {value = dense<[16777217, 16777219, -3, 9007199254740993]> : tensor<4xi64>} : () -> tensor<4xi64>
            %r = "onnx.Cast"(%d) {to = 1 : i64} : (tensor<4xi64>) -> tensor<4xf32>
            """, 17),
        ["Cast f32 to f16"] = ("tensor<4xf16>", """
            %d = "onnx.Constant"() {value = dense<[0.1, 65504.0, 1.0e-8, -2.5]> : tensor<4xf32>} : () -> tensor<4xf32>
            %r = "onnx.Cast"(%d) {to = 10 : i64} : (tensor<4xf32>) -> tensor<4xf16>
            """, 17),
        ["Cast f32 to bool"] = ("tensor<3xi1>", """
            %d = "onnx.Constant"() {value = dense<[0.0, -0.5, 2.0]> : tensor<3xf32>} : () -> tensor<3xf32>
            %r = "onnx.Cast"(%d) {to = 9 : i64} : (tensor<3xf32>) -> tensor<3xi1>
            """, 17),
        ["Cast i32 to i8 wraps"] = ("tensor<3xi8>", """
            %d = "onnx.Constant"() {value = dense<[300, -129, 5]> : tensor<3xi32>} : () -> tensor<3xi32>
            %r = "onnx.Cast"(%d) {to = 3 : i64} : (tensor<3xi32>) -> tensor<3xi8>
            """, 17),
        ["Cast ui8 to f64"] = ("tensor<2xf64>", """
            %d = "onnx.Constant"() {value = dense<[255, 7]> : tensor<2xui8>} : () -> tensor<2xui8>
            %r = "onnx.Cast"(%d) {to = 11 : i64} : (tensor<2xui8>) -> tensor<2xf64>
            """, 17),
        ["Cast bool to f32"] = ("tensor<2xf32>", """
            %d = "onnx.Constant"() {value = dense<[true, false]> : tensor<2xi1>} : () -> tensor<2xi1>
            %r = "onnx.Cast"(%d) {to = 1 : i64} : (tensor<2xi1>) -> tensor<2xf32>
            """, 17),
        ["CastLike"] = ("tensor<2xi64>", """
            %d = "onnx.Constant"() {value = dense<[2.9, -2.9]> : tensor<2xf64>} : () -> tensor<2xf64>
            %t = "onnx.Constant"() {value = dense<0> : tensor<1xi64>} : () -> tensor<1xi64>
            %r = "onnx.CastLike"(%d, %t) : (tensor<2xf64>, tensor<1xi64>) -> tensor<2xi64>
            """, 17),
        ["Slice steps and clamping"] = ("tensor<2x2xf32>", """
            %d = "onnx.Constant"() {value = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]]> : tensor<3x4xf32>} : () -> tensor<3x4xf32>
            %st = "onnx.Constant"() {value = dense<[-1, 0]> : tensor<2xi64>} : () -> tensor<2xi64>
            %en = "onnx.Constant"() {value = dense<[-9223372036854775807, 1000]> : tensor<2xi64>} : () -> tensor<2xi64>
            %ax = "onnx.Constant"() {value = dense<[1, 0]> : tensor<2xi64>} : () -> tensor<2xi64>
            %sp = "onnx.Constant"() {value = dense<[-3, 2]> : tensor<2xi64>} : () -> tensor<2xi64>
            %r = "onnx.Slice"(%d, %st, %en, %ax, %sp) : (tensor<3x4xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x2xf32>
            """, 17),
        ["Slice attributes (opset 9)"] = ("tensor<2x2xi64>", """
            %d = "onnx.Constant"() {value = dense<[[1, 2, 3], [4, 5, 6], [7, 8, 9]]> : tensor<3x3xi64>} : () -> tensor<3x3xi64>
            %r = "onnx.Slice"(%d) {starts = [1, 0], ends = [3, -1]} : (tensor<3x3xi64>) -> tensor<2x2xi64>
            """, 9),
        ["Add broadcast"] = ("tensor<2x3xf32>", """
            %a = "onnx.Constant"() {value = dense<[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
            %b = "onnx.Constant"() {value = dense<[[1.0e7], [3.3]]> : tensor<2x1xf32>} : () -> tensor<2x1xf32>
            %r = "onnx.Add"(%a, %b) : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
            """, 17),
        ["Sub"] = ("tensor<3xi64>", """
            %a = "onnx.Constant"() {value = dense<[5, -9223372036854775807, 0]> : tensor<3xi64>} : () -> tensor<3xi64>
            %b = "onnx.Constant"() {value = dense<[7, 2, -1]> : tensor<3xi64>} : () -> tensor<3xi64>
            %r = "onnx.Sub"(%a, %b) : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
            """, 17),
        ["Mul f64"] = ("tensor<3xf64>", """
            %a = "onnx.Constant"() {value = dense<[0.1, 1.0e300, -3.0]> : tensor<3xf64>} : () -> tensor<3xf64>
            %b = "onnx.Constant"() {value = dense<3.0> : tensor<f64>} : () -> tensor<f64>
            %r = "onnx.Mul"(%a, %b) : (tensor<3xf64>, tensor<f64>) -> tensor<3xf64>
            """, 17),
        ["Div f32"] = ("tensor<3xf32>", """
            %a = "onnx.Constant"() {value = dense<[1.0, -2.0, 10.0]> : tensor<3xf32>} : () -> tensor<3xf32>
            %b = "onnx.Constant"() {value = dense<[3.0, 7.0, 0.1]> : tensor<3xf32>} : () -> tensor<3xf32>
            %r = "onnx.Div"(%a, %b) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
            """, 17),
        ["Div i32 truncates"] = ("tensor<4xi32>", """
            %a = "onnx.Constant"() {value = dense<[7, -7, 7, -7]> : tensor<4xi32>} : () -> tensor<4xi32>
            %b = "onnx.Constant"() {value = dense<[2, 2, -2, -2]> : tensor<4xi32>} : () -> tensor<4xi32>
            %r = "onnx.Div"(%a, %b) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
            """, 17),
        ["Mod integer and fmod"] = ("tensor<4xf32>", """
            %a = "onnx.Constant"() {value = dense<[7, -7, 7, -7]> : tensor<4xi64>} : () -> tensor<4xi64>
            %b = "onnx.Constant"() {value = dense<[3, 3, -3, -3]> : tensor<4xi64>} : () -> tensor<4xi64>
            %m = "onnx.Mod"(%a, %b) : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
            %mf = "onnx.Cast"(%m) {to = 1 : i64} : (tensor<4xi64>) -> tensor<4xf32>
            %x1 = "onnx.Constant"() {value = dense<[5.5, -5.5, 5.5, -5.5]> : tensor<4xf32>} : () -> tensor<4xf32>
            %y1 = "onnx.Constant"() {value = dense<[2.0, 2.0, -2.0, -2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
            %f = "onnx.Mod"(%x1, %y1) {fmod = 1 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
            %r = "onnx.Add"(%mf, %f) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
            """, 17),
        ["Sqrt"] = ("tensor<4xf32>", """
            %a = "onnx.Constant"() {value = dense<[2.0, 3.0, 0.01, 12345.678]> : tensor<4xf32>} : () -> tensor<4xf32>
            %r = "onnx.Sqrt"(%a) : (tensor<4xf32>) -> tensor<4xf32>
            """, 17),
        ["Reciprocal"] = ("tensor<4xf32>", """
            %a = "onnx.Constant"() {value = dense<[3.0, -7.0, 0.3, 1.0e-3]> : tensor<4xf32>} : () -> tensor<4xf32>
            %r = "onnx.Reciprocal"(%a) : (tensor<4xf32>) -> tensor<4xf32>
            """, 17),
        ["Neg Abs Floor Ceil"] = ("tensor<3xf32>", """
            %a = "onnx.Constant"() {value = dense<[-1.5, 2.25, -0.0]> : tensor<3xf32>} : () -> tensor<3xf32>
            %n = "onnx.Neg"(%a) : (tensor<3xf32>) -> tensor<3xf32>
            %b = "onnx.Abs"(%n) : (tensor<3xf32>) -> tensor<3xf32>
            %f = "onnx.Floor"(%a) : (tensor<3xf32>) -> tensor<3xf32>
            %c = "onnx.Ceil"(%n) : (tensor<3xf32>) -> tensor<3xf32>
            %s = "onnx.Add"(%b, %f) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
            %r = "onnx.Mul"(%s, %c) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
            """, 17),
        ["Min Max"] = ("tensor<3xi32>", """
            %a = "onnx.Constant"() {value = dense<[1, -5, 9]> : tensor<3xi32>} : () -> tensor<3xi32>
            %b = "onnx.Constant"() {value = dense<[4, -6, 2]> : tensor<3xi32>} : () -> tensor<3xi32>
            %c = "onnx.Constant"() {value = dense<3> : tensor<i32>} : () -> tensor<i32>
            %lo = "onnx.Min"(%a, %b, %c) : (tensor<3xi32>, tensor<3xi32>, tensor<i32>) -> tensor<3xi32>
            %hi = "onnx.Max"(%a, %b) : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
            %r = "onnx.Sub"(%hi, %lo) : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
            """, 17),
        ["Comparisons Where Not And Or Xor"] = ("tensor<4xi64>", """
            %a = "onnx.Constant"() {value = dense<[1, -1, 5, 0]> : tensor<4xi64>} : () -> tensor<4xi64>
            %z = "onnx.Constant"() {value = dense<0> : tensor<i64>} : () -> tensor<i64>
            %eq = "onnx.Equal"(%a, %z) : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
            %lt = "onnx.Less"(%a, %z) : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
            %gt = "onnx.Greater"(%a, %z) : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
            %ge = "onnx.GreaterOrEqual"(%a, %z) : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
            %le = "onnx.LessOrEqual"(%a, %z) : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
            %n = "onnx.Not"(%eq) : (tensor<4xi1>) -> tensor<4xi1>
            %and = "onnx.And"(%n, %ge) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
            %or = "onnx.Or"(%and, %lt) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
            %xor = "onnx.Xor"(%or, %le) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
            %x2 = "onnx.Xor"(%xor, %gt) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
            %m = "onnx.Constant"() {value = dense<-1> : tensor<i64>} : () -> tensor<i64>
            %r = "onnx.Where"(%x2, %a, %m) : (tensor<4xi1>, tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
            """, 17),
        ["Range int"] = ("tensor<4xi32>", """
            %s = "onnx.Constant"() {value = dense<10> : tensor<i32>} : () -> tensor<i32>
            %l = "onnx.Constant"() {value = dense<-1> : tensor<i32>} : () -> tensor<i32>
            %d = "onnx.Constant"() {value = dense<-3> : tensor<i32>} : () -> tensor<i32>
            %r = "onnx.Range"(%s, %l, %d) : (tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<4xi32>
            """, 17),
        ["Range float"] = ("tensor<100xf32>", """
            %s = "onnx.Constant"() {value = dense<0.0> : tensor<f32>} : () -> tensor<f32>
            %l = "onnx.Constant"() {value = dense<10.0> : tensor<f32>} : () -> tensor<f32>
            %d = "onnx.Constant"() {value = dense<0.1> : tensor<f32>} : () -> tensor<f32>
            %r = "onnx.Range"(%s, %l, %d) : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<100xf32>
            """, 17),
        ["ConstantOfShape default"] = ("tensor<2x3xf32>", """
            %s = "onnx.Constant"() {value = dense<[2, 3]> : tensor<2xi64>} : () -> tensor<2xi64>
            %r = "onnx.ConstantOfShape"(%s) : (tensor<2xi64>) -> tensor<2x3xf32>
            """, 17),
        ["ConstantOfShape value"] = ("tensor<3xi64>", """
            %s = "onnx.Constant"() {value = dense<3> : tensor<1xi64>} : () -> tensor<1xi64>
            %r = "onnx.ConstantOfShape"(%s) {value = dense<-7> : tensor<1xi64>} : (tensor<1xi64>) -> tensor<3xi64>
            """, 17),
        ["Expand Flatten Identity"] = ("tensor<2x6xf32>", """
            %d = "onnx.Constant"() {value = dense<[[1.0], [2.0]]> : tensor<2x1xf32>} : () -> tensor<2x1xf32>
            %s = "onnx.Constant"() {value = dense<[3, 1, 2]> : tensor<3xi64>} : () -> tensor<3xi64>
            %e = "onnx.Expand"(%d, %s) : (tensor<2x1xf32>, tensor<3xi64>) -> tensor<3x2x2xf32>
            %i = "onnx.Identity"(%e) : (tensor<3x2x2xf32>) -> tensor<3x2x2xf32>
            %t = "onnx.Transpose"(%i) {perm = [1, 0, 2]} : (tensor<3x2x2xf32>) -> tensor<2x3x2xf32>
            %r = "onnx.Flatten"(%t) {axis = -2 : i64} : (tensor<2x3x2xf32>) -> tensor<2x6xf32>
            """, 17),
    };

    public static TheoryData<string> OpCaseNames() => new(OpCases.Keys);

    [Theory]
    [MemberData(nameof(OpCaseNames))]
    public void EachNativeEvaluatorAgreesWithOnnxRuntime(string name)
    {
        var (type, body, opset) = OpCases[name];
        var text = Module($"(%x: tensor<2x3xf32> {{mo.name = \"x\"}}) -> ({type} {{mo.name = \"r\"}})", body + $"\n    return %r : {type}", opset);
        var ops = Mir.Parse(text).AllOperations().Where(o => o.Name != Constants.ConstantOp && o.Name != FuncOp.ReturnOpName).Count();
        var result = Numerics.AssertPreserves(text, "fold-constants", tolerance: 0);
        var run = RunOf(result, "fold-constants");
        Assert.Equal(ops, Counter(run, "folded"));
        Assert.Equal(0, Counter(run, "by ONNX Runtime"));
        Assert.Empty(run.Context.Skips);
        Assert.All(result.After.AllOperations(), o => Assert.True(o.Name is Constants.ConstantOp or FuncOp.ReturnOpName, $"{o.Name} left"));
    }

    [Fact]
    public void EveryOpTheIssueListsHasANativeEvaluator()
    {
        foreach (var op in new[] { "Shape", "Gather", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Transpose", "Cast", "Slice",
                                   "Add", "Sub", "Mul", "Div", "Sqrt", "Reciprocal", "Range", "ConstantOfShape" })
        {
            Assert.True(Mopt.Dialects.StandardDialects.Registry.Find("onnx." + op)?.Interface<IFolder>() is not null, op);
            Assert.Contains(OpCases.Keys, k => k.StartsWith(op, StringComparison.Ordinal) || k.Contains(" " + op, StringComparison.Ordinal));
        }
    }

    // ------------------------------------------------------------------ the ONNX Runtime fallback

    [Fact]
    public void OpsWithoutNativeEvaluatorFoldThroughOnnxRuntime()
    {
        var text = Module("(%x: tensor<3xf32> {mo.name = \"x\"}) -> (tensor<3xf32> {mo.name = \"y\"}, tensor<*xf32> {mo.name = \"sp\"}, tensor<i64> {mo.name = \"p\"})", """
            %v = "onnx.Constant"() {value = dense<[0.5, -1.0, 2.0]> : tensor<3xf32>} : () -> tensor<3xf32> loc("v")
            %erf = "onnx.Erf"(%v) : (tensor<3xf32>) -> tensor<3xf32> loc("erf")
            %y = "onnx.Add"(%x, %erf) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32> loc("add")
            %sp = "onnx.Softplus"(%v) : (tensor<3xf32>) -> tensor<*xf32> loc("softplus")
            %s = "onnx.Constant"() {value = dense<[2, 3, 4]> : tensor<3xi64>} : () -> tensor<3xi64> loc("s")
            %p = "onnx.ReduceProd"(%s) {keepdims = 0 : i64} : (tensor<3xi64>) -> tensor<i64> loc("prod")
            return %y, %sp, %p : tensor<3xf32>, tensor<*xf32>, tensor<i64>
        """);
        var result = Numerics.AssertPreserves(text, "fold-constants", tolerance: 0);
        var run = RunOf(result, "fold-constants");
        Assert.Equal(3, Counter(run, "folded"));
        Assert.Equal(3, Counter(run, "by ONNX Runtime"));
        Assert.Equal(0, Numerics.Count(result.After, "onnx.Erf") + Numerics.Count(result.After, "onnx.Softplus") + Numerics.Count(result.After, "onnx.ReduceProd"));
        // The declared unranked result became the static type ONNX Runtime computed, in the signature too.
        Assert.Equal("tensor<3xf32>", result.After.MainFunction.Type.Results[1].Text);
        Assert.StartsWith("3 folded, 3 by ONNX Runtime", run.Context.Summarize());
    }

    [Fact]
    public void WithoutAFallbackOpsWithoutNativeEvaluatorAreSkippedWithTheReason()
    {
        var m = Mir.Parse(Module("() -> tensor<2xf32>", """
            %v = "onnx.Constant"() {value = dense<[0.5, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
            %e = "onnx.Erf"(%v) : (tensor<2xf32>) -> tensor<2xf32> loc("erf")
            return %e : tensor<2xf32>
        """));
        var context = new PassContext();
        new FoldConstants(fallback: null).Run(m, context);
        Assert.Equal(1, Numerics.Count(m, "onnx.Erf"));
        Assert.Equal(["erf: no native evaluator for Erf, and the ONNX Runtime fallback is off"], context.Skips);
    }

    [Fact]
    public void TheFallbackIsTheEvaluatorTheContextGivesAndNoneWithoutServices()
    {
        const string body = """
            %v = "onnx.Constant"() {value = dense<[0.5, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
            %e = "onnx.Erf"(%v) : (tensor<2xf32>) -> tensor<2xf32> loc("erf")
            return %e : tensor<2xf32>
        """;
        var alone = Mir.Parse(Module("() -> tensor<2xf32>", body));
        var context = new PassContext();
        new FoldConstants().Run(alone, context);
        Assert.Equal(1, Numerics.Count(alone, "onnx.Erf"));
        Assert.Equal(["erf: no native evaluator for Erf, and the ONNX Runtime fallback is off"], context.Skips);

        var withRuntime = Mir.Parse(Module("() -> tensor<2xf32>", body));
        context = new PassContext(services: TestRuntime.Services);
        new FoldConstants().Run(withRuntime, context);
        Assert.Equal(0, Numerics.Count(withRuntime, "onnx.Erf"));
        Assert.StartsWith("1 folded, 1 by ONNX Runtime", context.Summarize());
    }

    [Fact]
    public void TheFallbackReportsWhatOnnxRuntimeRefuses()
    {
        // Gather with an index out of range: native refuses without asking ONNX Runtime; an op ONNX Runtime cannot
        // run (Erf of integers, which ONNX does not define) is skipped with its error. An op with no definition is
        // not known to be pure, so it is not evaluated at all.
        var m = Mir.Parse(Module("() -> (tensor<2xi64>, tensor<f32>, tensor<2xf32>)", """
            %v = "onnx.Constant"() {value = dense<[0.5, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
            %n = "onnx.Constant"() {value = dense<[1, 2]> : tensor<2xi64>} : () -> tensor<2xi64>
            %u = "onnx.Erf"(%n) : (tensor<2xi64>) -> tensor<2xi64> loc("refused_op")
            %i = "onnx.Constant"() {value = dense<5> : tensor<i64>} : () -> tensor<i64>
            %g = "onnx.Gather"(%v, %i) : (tensor<2xf32>, tensor<i64>) -> tensor<f32> loc("gather_out_of_range")
            %x = "onnx.NoSuchOperator"(%v) : (tensor<2xf32>) -> tensor<2xf32> loc("unknown_op")
            return %u, %g, %x : tensor<2xi64>, tensor<f32>, tensor<2xf32>
        """));
        var context = new PassContext(services: TestRuntime.Services);
        new FoldConstants().Run(m, context);
        Assert.Equal(3, context.Skips.Count);
        Assert.StartsWith("refused_op: ONNX Runtime could not evaluate it: ", context.Skips[0]);
        Assert.Equal("gather_out_of_range: index 5 is out of range for a dimension of 2", context.Skips[1]);
        Assert.Equal("unknown_op: onnx.NoSuchOperator has no definition, so it is not known to be pure", context.Skips[2]);
    }

    [Fact]
    public void AnOpWithAttributesKeptAsBytesGoesToOnnxRuntime()
    {
        // ConstantOfShape whose value attribute mopt holds only as ONNX bytes: the native evaluator would not see it.
        var attr = new Mopt.Onnx.Proto.AttributeProto
        {
            Name = "value",
            Type = Mopt.Onnx.Proto.AttributeProto.Types.AttributeType.Tensor,
            T = new Mopt.Onnx.Proto.TensorProto { DataType = 1, Dims = { 1 }, FloatData = { 3.5f } },
        };
        var hex = Convert.ToHexString(Google.Protobuf.MessageExtensions.ToByteArray(attr));
        var text = Module("(%x: tensor<2x2xf32> {mo.name = \"x\"}) -> (tensor<2x2xf32> {mo.name = \"y\"})", $$"""
            %s = "onnx.Constant"() {value = dense<2> : tensor<2xi64>} : () -> tensor<2xi64>
            %c = "onnx.ConstantOfShape"(%s) {onnx.raw_attributes = [dense<"0x{{hex}}"> : tensor<{{hex.Length / 2}}xui8>]} : (tensor<2xi64>) -> tensor<2x2xf32>
            %y = "onnx.Add"(%x, %c) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
            return %y : tensor<2x2xf32>
        """);
        var result = Numerics.AssertPreserves(text, "fold-constants", tolerance: 0);
        Assert.Equal(1, Counter(RunOf(result, "fold-constants"), "by ONNX Runtime"));
        var add = result.After.AllOperations().Single(o => o.Name == "onnx.Add");
        Assert.Equal([3.5f, 3.5f, 3.5f, 3.5f], Constants.TryGet(add.GetOperand(1), result.After)!.ToFloats());
    }

    // ------------------------------------------------------------------ limits

    [Theory]
    [InlineData(15, false)]
    [InlineData(16, true)]
    public void ResultsOverMaxSizeAreNotMaterialized(long maxSize, bool folded)
    {
        // Declared 4x4 (known before evaluating) and declared dynamic (found while evaluating).
        var text = Module("(%x: tensor<4x4xf32> {mo.name = \"x\"}) -> (tensor<4x4xf32> {mo.name = \"y\"}, tensor<?xi64> {mo.name = \"r\"})", """
            %s = "onnx.Constant"() {value = dense<4> : tensor<2xi64>} : () -> tensor<2xi64>
            %c = "onnx.ConstantOfShape"(%s) {value = dense<0.5> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<4x4xf32> loc("fill")
            %y = "onnx.Mul"(%x, %c) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
            %a = "onnx.Constant"() {value = dense<0> : tensor<i64>} : () -> tensor<i64>
            %b = "onnx.Constant"() {value = dense<16> : tensor<i64>} : () -> tensor<i64>
            %d = "onnx.Constant"() {value = dense<1> : tensor<i64>} : () -> tensor<i64>
            %r = "onnx.Range"(%a, %b, %d) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64> loc("range")
            return %y, %r : tensor<4x4xf32>, tensor<?xi64>
        """);
        var result = Numerics.AssertPreserves(text, $"fold-constants{{max-size={maxSize}}}", tolerance: 0);
        var run = RunOf(result, "fold-constants");
        Assert.Equal(folded ? 0 : 1, Numerics.Count(result.After, "onnx.ConstantOfShape"));
        Assert.Equal(folded ? 0 : 1, Numerics.Count(result.After, "onnx.Range"));
        if (!folded)
            Assert.Equal([$"fill: its result has 16 elements, more than max-size={maxSize}",
                          $"range: the result would have 16 elements, more than max-size={maxSize}"], run.Context.Skips);
        Assert.Equal(FoldConstants.DefaultMaxSize, new FoldConstants().MaxSize.Value);
    }

    [Fact]
    public void AnInputWhoseBytesAreMissingIsNotRead()
    {
        var m = Mir.Parse("""
            module {
              func.func @main() -> tensor<2xf32> {
                %w = "onnx.Constant"() {value = dense_resource<w> : tensor<2xf32>} : () -> tensor<2xf32>
                %n = "onnx.Neg"(%w) : (tensor<2xf32>) -> tensor<2xf32> loc("neg")
                return %n : tensor<2xf32>
              }
            }

            {-#
              dialect_resources: {
                builtin: {
                  w: "0x040000000000803F00000040"
                }
              }
            #-}
            """);
        m.Resources.Remove("w");
        var context = new PassContext(services: TestRuntime.Services);
        new FoldConstants().Run(m, context);
        Assert.Equal(["neg: the bytes of input #0 are not available (elided or missing blob)"], context.Skips);
        Assert.Equal(1, Numerics.Count(m, "onnx.Neg"));
    }

    [Fact]
    public void RandomOpsAndOpsWithSubgraphsAreNeverFolded()
    {
        var m = Mir.Parse(Module("() -> (tensor<2x3xf32>, tensor<2xf32>)", """
            %s = "onnx.Constant"() {value = dense<[2, 3]> : tensor<2xi64>} : () -> tensor<2xi64>
            %z = "onnx.ConstantOfShape"(%s) : (tensor<2xi64>) -> tensor<2x3xf32>
            %r = "onnx.RandomUniformLike"(%z) : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("random")
            %t = "onnx.Constant"() {value = dense<true> : tensor<i1>} : () -> tensor<i1>
            %a = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
            %if = "onnx.If"(%t) ({
              "onnx.Yield"(%a) : (tensor<2xf32>) -> ()
            }, {
              "onnx.Yield"(%a) : (tensor<2xf32>) -> ()
            }) : (tensor<i1>) -> tensor<2xf32> loc("if")
            return %r, %if : tensor<2x3xf32>, tensor<2xf32>
        """));
        var context = new PassContext(services: TestRuntime.Services);
        new FoldConstants().Run(m, context);
        Assert.Equal(["random: RandomUniformLike is random", "if: it has subgraphs"], context.Skips);
        Assert.Equal(1, Numerics.Count(m, "onnx.RandomUniformLike"));
        Assert.Equal(1, Numerics.Count(m, "onnx.If"));
        Assert.Equal(0, Numerics.Count(m, "onnx.ConstantOfShape"));
    }

    // ------------------------------------------------------------------ dedupe-constants and cse

    /// <summary>Two identical branches (as a duplicated submodule exports): each its own weight blobs with the same bytes.</summary>
    private static string DuplicatedBranches()
    {
        var w = "0x04000000" + string.Concat(Enumerable.Range(0, 6).Select(i => BitConverter.ToString(BitConverter.GetBytes(0.25f * i - 0.5f)).Replace("-", "")));
        var b = "0x04000000" + BitConverter.ToString(BitConverter.GetBytes(0.125f)).Replace("-", "") + BitConverter.ToString(BitConverter.GetBytes(-0.25f)).Replace("-", "");
        return $$"""
            module attributes {onnx.opset = 17 : i64} {
              func.func @main(%x: tensor<1x3x4x4xf32> {mo.name = "input"}) -> (tensor<1x2x4x4xf32> {mo.name = "sum"}, tensor<1x2x4x4xf32> {mo.name = "right"}) {
                %w1 = "onnx.Constant"() {value = dense_resource<left.weight> : tensor<2x3x1x1xf32>} : () -> tensor<2x3x1x1xf32> loc("left.weight")
                %b1 = "onnx.Constant"() {value = dense_resource<left.bias> : tensor<2xf32>} : () -> tensor<2xf32> loc("left.bias")
                %c1 = "onnx.Conv"(%x, %w1, %b1) {kernel_shape = [1, 1], mo.outputs = ["left_conv"]} : (tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32> loc("left.conv")
                %r1 = "onnx.Relu"(%c1) {mo.outputs = ["left_relu"]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> loc("left.relu")
                %w2 = "onnx.Constant"() {value = dense_resource<right.weight> : tensor<2x3x1x1xf32>} : () -> tensor<2x3x1x1xf32> loc("right.weight")
                %b2 = "onnx.Constant"() {value = dense_resource<right.bias> : tensor<2xf32>} : () -> tensor<2xf32> loc("right.bias")
                %c2 = "onnx.Conv"(%x, %w2, %b2) {kernel_shape = [1, 1], mo.outputs = ["right_conv"]} : (tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32> loc("right.conv")
                %r2 = "onnx.Relu"(%c2) {mo.outputs = ["right"]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> loc("right.relu")
                %s = "onnx.Add"(%r1, %r2) : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> loc("sum")
                return %s, %r2 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
              }
            }

            {-#
              dialect_resources: {
                builtin: {
                  left.weight: "{{w}}",
                  left.bias: "{{b}}",
                  right.weight: "{{w}}",
                  right.bias: "{{b}}"
                }
              }
            #-}
            """;
    }

    [Fact]
    public void DuplicateConstantsMergeAndTheirBlobsGo()
    {
        var result = Numerics.AssertPreserves(DuplicatedBranches(), "dedupe-constants", tolerance: 0);
        var run = RunOf(result, "dedupe-constants");
        Assert.Equal("2 constants merged, 2 blobs removed, 32 blob bytes freed", run.Context.Summarize());
        Assert.Equal(["left.weight", "left.bias"], result.After.Resources.Blobs.Select(kv => kv.Key));
        Assert.Equal(2, Numerics.Count(result.After, Constants.ConstantOp));
    }

    [Fact]
    public void CseOfDuplicatedBranchesNeedsTheConstantsDedupedFirst()
    {
        // Alone, cse sees two Convs reading different constants: nothing to merge.
        var alone = Numerics.AssertPreserves(DuplicatedBranches(), "cse", tolerance: 0);
        Assert.Equal("nothing changed", RunOf(alone, "cse").Context.Summarize());

        var result = Numerics.AssertPreserves(DuplicatedBranches(), "dedupe-constants,cse", tolerance: 0);
        Assert.Equal("2 operations merged", RunOf(result, "cse").Context.Summarize());
        Assert.Equal(1, Numerics.Count(result.After, "onnx.Conv"));
        Assert.Equal(1, Numerics.Count(result.After, "onnx.Relu"));
        var add = result.After.AllOperations().Single(o => o.Name == "onnx.Add");
        Assert.Same(add.GetOperand(0), add.GetOperand(1));

        // Both outputs keep their names in the exported model.
        var graph = OnnxExporter.ToModel(result.After).Graph;
        Assert.Equal(["sum", "right"], graph.Output.Select(o => o.Name));
    }

    [Fact]
    public void CseRefusesRandomAndUnknownOps()
    {
        var m = Mir.Parse(Module("(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)", """
            %a = "onnx.RandomNormalLike"(%x) : (tensor<2xf32>) -> tensor<2xf32>
            %b = "onnx.RandomNormalLike"(%x) : (tensor<2xf32>) -> tensor<2xf32>
            %c = "ext.op"(%x) : (tensor<2xf32>) -> tensor<2xf32>
            %d = "ext.op"(%x) : (tensor<2xf32>) -> tensor<2xf32>
            return %a, %b, %c, %d : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
        """));
        var context = new PassContext();
        new CommonSubexpressionElimination().Run(m, context);
        Assert.Equal("nothing changed", context.Summarize());
    }

    // ------------------------------------------------------------------ whole models

    public static TheoryData<string> SharedOnnxModels() => new(
        "connxr_mnist/model.onnx", "connxr_super_resolution/model.onnx", "ultraface_rfb_320/version-RFB-320.onnx");

    [SharedModelsTheory]
    [MemberData(nameof(SharedOnnxModels))]
    public void TheThreePassesKeepRealModelsOutputs(string relative)
    {
        var path = Path.Combine(TestPaths.SharedModels, "onnx", relative);
        var module = ModelReaders.For(path).Read(path);
        var names = module.MainFunction.Type.Results.Select((_, i) => module.MainFunction.ResultName(i)).ToList();
        // Not bit for bit: a MatMul whose weight becomes an initializer (mnist's folded Reshape) takes ONNX Runtime's
        // prepacked path, which sums in another order (1e-7).
        var result = Numerics.AssertPreserves(module, "fold-constants,dedupe-constants,cse,dce");
        Assert.Equal(names, result.After.MainFunction.Type.Results.Select((_, i) => result.After.MainFunction.ResultName(i)));
        Assert.All(result.Runs, r => Assert.Empty(r.Context.Skips));
    }

    [SharedModelsFact]
    public void AfterShapeInferenceEveryShapeComputationOfUltrafaceFolds()
    {
        // The importer leaves intermediate types unranked; --infer-shapes makes them static, and then every
        // Shape -> Gather -> Unsqueeze -> Concat -> Reshape of the detection heads folds.
        var path = Path.Combine(TestPaths.SharedModels, "onnx", "ultraface_rfb_320", "version-RFB-320.onnx");
        var module = ModelReaders.For(path).Read(path);
        Assert.Equal(8, Numerics.Count(module, "onnx.Shape"));
        var result = Numerics.AssertPreserves(module, "infer-shapes,fold-constants,dedupe-constants,cse,dce", tolerance: 0);
        foreach (var op in new[] { "onnx.Shape", "onnx.Gather", "onnx.Unsqueeze" })
            Assert.Equal(0, Numerics.Count(result.After, op));
        Assert.All(result.After.AllOperations().Where(o => o.Name == "onnx.Reshape"), r => Assert.True(Constants.IsConstant(r.GetOperand(1))));
        Assert.Equal(48, Counter(RunOf(result, "fold-constants"), "folded"));
    }
}
