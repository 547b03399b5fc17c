using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Passes;
using Mopt.Dialects;
using Mopt.Dialects.Onnx.ShapeInference;

namespace Mopt.Tests;

public sealed class ShapeInferenceTests
{
    private static MirModule Parse(string body, string args = "%x: tensor<1x3x16x16xf32>", long? opset = 17, string trailer = "", string result = "tensor<*xf32>")
    {
        var attrs = opset is long o ? $" attributes {{onnx.opset = {o} : i64}}" : "";
        var text = $$"""
            module{{attrs}} {
              func.func @main({{args}}) -> {{result}} {
            {{body}}
              }
            }
            {{trailer}}
            """;
        return MirReader.ParseText(text, "test.mir");
    }

    private static Operation Op(MirModule module, string locName) =>
        module.AllOperations().Single(o => o.Location.FirstName == locName);

    private static string? Inferred(MirModule module, string locName, int result = 0)
    {
        var types = TypeInference.InferResultTypes(Op(module, locName), new ShapeContext(module).Inference);
        return types?[result]?.Text;
    }

    private static readonly string ConvBody = """
            %w = "onnx.Constant"() {value = dense<0.5> : tensor<8x3x3x3xf32>} : () -> tensor<8x3x3x3xf32> loc("w")
            %0 = "onnx.Conv"(%x, %w) {pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x3x16x16xf32>, tensor<8x3x3x3xf32>) -> tensor<*xf32> loc("Conv_0")
            return %0 : tensor<*xf32>
        """;

    // ---- the API

    [Fact]
    public void InferResultTypesGivesTheTypeWithoutChangingTheOperation()
    {
        var module = Parse(ConvBody);
        Assert.Equal("tensor<1x8x8x8xf32>", Inferred(module, "Conv_0"));
        Assert.Equal("tensor<*xf32>", Op(module, "Conv_0").Result.Type.Text);
    }

    [Fact]
    public void UnknownOperationGivesNullWithAReason()
    {
        var module = Parse("""
                %0 = "onnx.SomethingNew"(%x) : (tensor<1x3x16x16xf32>) -> tensor<*xf32> loc("new")
                return %0 : tensor<*xf32>
            """);
        var ctx = new ShapeContext(module);
        Assert.Null(TypeInference.InferResultTypes(Op(module, "new"), ctx.Inference));
        Assert.Equal("no shape rule for onnx.SomethingNew", ctx.Reason);
        Assert.Equal(-1, TypeInference.Apply(Op(module, "new"), ctx.Inference));
        Assert.Equal("tensor<*xf32>", Op(module, "new").Result.Type.Text);
    }

    [Fact]
    public void ApplyRefinesInPlaceAndCountsChangedResults()
    {
        var module = Parse(ConvBody);
        var ctx = new ShapeContext(module);
        Assert.Equal(1, TypeInference.Apply(Op(module, "Conv_0"), ctx.Inference));
        Assert.Equal("tensor<1x8x8x8xf32>", Op(module, "Conv_0").Result.Type.Text);
        Assert.Equal(0, TypeInference.Apply(Op(module, "Conv_0"), ctx.Inference));
    }

    [Fact]
    public void ContradictingDeclaredTypeIsAnErrorNamingTheNode()
    {
        var module = Parse(ConvBody.Replace("tensor<*xf32>", "tensor<1x8x7x7xf32>"), result: "tensor<1x8x7x7xf32>");
        var e = Assert.Throws<MirException>(() => TypeInference.Apply(Op(module, "Conv_0"), new ShapeContext(module).Inference));
        Assert.Contains("'onnx.Conv' at \"Conv_0\"", e.Message);
        Assert.Contains("declared tensor<1x8x7x7xf32> but the inputs give tensor<1x8x8x8xf32>", e.Message);
        Assert.NotNull(e.Position);
        Assert.Equal("tensor<1x8x7x7xf32>", Op(module, "Conv_0").Result.Type.Text);
    }

    [Fact]
    public void InvalidInputsAreAnErrorNamingTheNode()
    {
        var module = Parse("""
                %0 = "onnx.Add"(%x, %y) : (tensor<1x3x16x16xf32>, tensor<4x16xf32>) -> tensor<*xf32> loc("Add_7")
                return %0 : tensor<*xf32>
            """, args: "%x: tensor<1x3x16x16xf32>, %y: tensor<4x16xf32>");
        var e = Assert.Throws<MirException>(() => Inferred(module, "Add_7"));
        Assert.Contains("'onnx.Add' at \"Add_7\": shapes [1x3x16x16] and [4x16] cannot be broadcast (16 vs 4)", e.Message);
    }

    [Theory]
    [InlineData("tensor<*xf32>", "tensor<2x3xf32>", "tensor<2x3xf32>")]
    [InlineData("tensor<?x3xf32>", "tensor<2x?xf32>", "tensor<2x3xf32>")]
    [InlineData("tensor<4x?xf32>", "tensor<?x?xf32>", "tensor<4x?xf32>")]
    [InlineData("tensor<4x3xf32>", "tensor<*xf32>", "tensor<4x3xf32>")]
    [InlineData("tensor<*xnone>", "tensor<?x3xi64>", "tensor<?x3xi64>")]
    [InlineData("tensor<2xf32>", "tensor<2xnone>", "tensor<2xf32>")]
    public void RefineKeepsWhatIsDeclaredAndAddsWhatIsProven(string declared, string inferred, string expected)
    {
        var result = TypeInference.Refine(ParseType(declared), ParseType(inferred));
        Assert.Equal(expected, result.Text);
    }

    [Theory]
    [InlineData("tensor<4x3xf32>", "tensor<5x3xf32>", "dim 0: 4 vs 5")]
    [InlineData("tensor<4x3xf32>", "tensor<4x3x1xf32>", "declared rank 2")]
    [InlineData("tensor<4x3xf32>", "tensor<4x3xi64>", "declared element type f32 but the inputs give i64")]
    public void RefineRejectsContradictions(string declared, string inferred, string message)
    {
        var e = Assert.Throws<ShapeError>(() => TypeInference.Refine(ParseType(declared), ParseType(inferred)));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void NonTensorTypesAreLeftAsDeclared()
    {
        Assert.Same(ElementType.None, TypeInference.Refine(ElementType.None, ParseType("tensor<2xf32>")));
    }

    private static TensorType ParseType(string text)
    {
        var module = MirReader.ParseText($$"""
            module {
              func.func @f(%a: {{text}}) -> {{text}} {
                return %a : {{text}}
              }
            }
            """);
        return (TensorType)module.MainFunction.Arguments[0].Type;
    }

    [Fact]
    public void CoveredOpsIncludeEveryFamily()
    {
        string[] expected =
        [
            "onnx.Conv", "onnx.ConvTranspose", "onnx.MaxPool", "onnx.AveragePool", "onnx.GlobalAveragePool", "onnx.GlobalMaxPool",
            "onnx.Add", "onnx.Where", "onnx.Gemm", "onnx.MatMul", "onnx.Reshape", "onnx.Transpose", "onnx.Concat", "onnx.Slice",
            "onnx.Squeeze", "onnx.Unsqueeze", "onnx.Gather", "onnx.Flatten", "onnx.Expand", "onnx.Tile", "onnx.Pad", "onnx.Resize",
            "onnx.Shape", "onnx.Size", "onnx.ConstantOfShape", "onnx.Range", "onnx.BatchNormalization", "onnx.Relu", "onnx.Clip",
            "onnx.Sigmoid", "onnx.Tanh", "onnx.LeakyRelu", "onnx.HardSigmoid", "onnx.Softmax", "onnx.LogSoftmax", "onnx.Dropout",
            "onnx.Identity", "onnx.Cast", "onnx.ReduceMean", "onnx.ReduceSum", "onnx.QuantizeLinear", "onnx.DequantizeLinear",
            "onnx.Constant", "onnx.Split",
        ];
        foreach (var name in expected) Assert.True(StandardDialects.Registry.Find(name)?.Interface<IInferTypes>() is not null, name);
    }

    // ---- the context: opset and constants

    [Fact]
    public void OpsetComesFromTheModuleAttribute()
    {
        var ctx = new ShapeContext(Parse(ConvBody, opset: 11));
        Assert.Equal(11L, ctx.Opset);
        Assert.True(ctx.OpsetBelow(13));
        Assert.False(ctx.OpsetAtLeast(13));
        Assert.True(ctx.OpsetKnownBelow(13));

        var unknown = new ShapeContext(Parse(ConvBody, opset: null));
        Assert.Null(unknown.Opset);
        Assert.True(unknown.OpsetBelow(13));
        Assert.True(unknown.OpsetAtLeast(13));
        Assert.False(unknown.OpsetKnownBelow(13));
    }

    [Fact]
    public void ConstantsAreReadFromDenseSplatResourceAndValueInts()
    {
        var module = Parse("""
                %a = "onnx.Constant"() {value = dense<[3, -1]> : tensor<2xi64>} : () -> tensor<2xi64> loc("a")
                %b = "onnx.Constant"() {value = dense<7> : tensor<3xi32>} : () -> tensor<3xi32> loc("b")
                %c = "onnx.Constant"() {value = dense_resource<blob> : tensor<2xi64>} : () -> tensor<2xi64> loc("c")
                %d = "onnx.Constant"() {value_ints = [4, 5, 6]} : () -> tensor<3xi64> loc("d")
                %e = "onnx.Constant"() {value = dense<[0.5, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32> loc("e")
                %f = "onnx.Constant"() {value_float = 1.5 : f32} : () -> tensor<f32> loc("f")
                return %x : tensor<1x3x16x16xf32>
            """, trailer: """
            {-#
              dialect_resources: {
                builtin: {
                  blob: "0x080000000400000000000000FFFFFFFFFFFFFFFF"
                }
              }
            #-}
            """, result: "tensor<1x3x16x16xf32>");
        var ctx = new ShapeContext(module);
        Assert.Equal(new[] { 3L, -1L }, ctx.GetInts(Op(module, "a").Result));
        Assert.Equal(new[] { 7L, 7L, 7L }, ctx.GetInts(Op(module, "b").Result));
        Assert.Equal(new[] { 4L, -1L }, ctx.GetInts(Op(module, "c").Result));
        Assert.Equal(new[] { 4L, 5L, 6L }, ctx.GetInts(Op(module, "d").Result));
        Assert.Null(ctx.GetInts(Op(module, "e").Result));
        Assert.Equal(new[] { 0.5, 2.0 }, ctx.GetFloats(Op(module, "e").Result));
        Assert.Equal(new[] { 1.5 }, ctx.GetFloats(Op(module, "f").Result));
        Assert.Equal(new[] { 4.0, -1.0 }, ctx.GetFloats(Op(module, "c").Result));
        Assert.Null(ctx.GetInts(module.MainFunction.Arguments[0]));
        Assert.Equal("tensor<3xi64>", ConstantValues.TypeOf(Op(module, "d"))!.Text);
    }

    [Fact]
    public void ShapeValuesFollowShapeGatherConcatWithSymbolicDims()
    {
        var module = Parse("""
                %s = "onnx.Shape"(%x) : (tensor<?x3x16x16xf32>) -> tensor<4xi64> loc("s")
                %i = "onnx.Constant"() {value = dense<[0, 2]> : tensor<2xi64>} : () -> tensor<2xi64> loc("i")
                %g = "onnx.Gather"(%s, %i) : (tensor<4xi64>, tensor<2xi64>) -> tensor<2xi64> loc("g")
                %m = "onnx.Constant"() {value = dense<-1> : tensor<1xi64>} : () -> tensor<1xi64> loc("m")
                %c = "onnx.Concat"(%g, %m) {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64> loc("c")
                %0 = "onnx.Reshape"(%x, %c) : (tensor<?x3x16x16xf32>, tensor<3xi64>) -> tensor<*xf32> loc("r")
                return %0 : tensor<*xf32>
            """, args: "%x: tensor<?x3x16x16xf32>");
        var ctx = new ShapeContext(module);
        var value = ctx.GetShapeValue(Op(module, "c").Result)!;
        Assert.Equal("dim0 16 -1", string.Join(" ", value.Elements));
        Assert.False(value.IsFullyKnown);
        Assert.Same(module.MainFunction.Arguments[0], value.Elements[0].Source);
        // dim 0 cancels against the input's own dim 0: -1 = 3 * 16 * 16 / 16.
        Assert.Equal("tensor<?x16x48xf32>", Inferred(module, "r"));
    }

    // ---- shape arithmetic

    [Theory]
    [InlineData("2x3;3", "2x3")]
    [InlineData("?x1;1x7", "?x7")]
    [InlineData("?x1;?x1", "?x1")]
    [InlineData("?;1", "?")]
    [InlineData("0x1;1x5", "0x5")]
    [InlineData(";4x5", "4x5")]
    public void BroadcastFollowsNumpyAndKeepsUnknownsUnknown(string inputs, string expected)
    {
        var shapes = inputs.Split(';').Select(ParseShape).ToArray();
        Assert.Equal(expected, string.Join("x", ShapeMath.Broadcast(shapes)!.Select(d => d < 0 ? "?" : d.ToString())));
    }

    private static long[] ParseShape(string s) =>
        s.Length == 0 ? [] : s.Split('x').Select(d => d == "?" ? -1L : long.Parse(d)).ToArray();

    [Fact]
    public void BroadcastOfIncompatibleDimsThrows()
    {
        Assert.Throws<ShapeError>(() => ShapeMath.Broadcast([[2, 3], [4]]));
        Assert.Null(ShapeMath.Broadcast([[2, 3], null]));
    }

    [Theory]
    [InlineData(10, 2, 8, 1, 6)]
    [InlineData(20, -3, -1, 1, 2)]
    [InlineData(10, 5, 1000, 1, 5)]
    [InlineData(20, 0, 20, 3, 7)]
    [InlineData(10, -1, -1000, -2, 5)]
    [InlineData(20, -1, long.MinValue, -1, 20)]
    [InlineData(20, 1, long.MaxValue, 1, 19)]
    [InlineData(10, 15, 20, 1, 0)]
    [InlineData(10, 3, 1, 1, 0)]
    [InlineData(10, 8, 2, -3, 2)]
    public void SliceLengthClampsAsOnnxSays(long dim, long start, long end, long step, long expected) =>
        Assert.Equal(expected, ShapeMath.SliceLength(dim, start, end, step));

    // ---- the pass

    [Fact]
    public void PassRefinesThroughANetworkKeepingADynamicBatch()
    {
        var module = Parse("""
                %w = "onnx.Constant"() {value = dense<0.5> : tensor<8x3x3x3xf32>} : () -> tensor<8x3x3x3xf32> loc("w")
                %fw = "onnx.Constant"() {value = dense<0.5> : tensor<10x8xf32>} : () -> tensor<10x8xf32> loc("fw")
                %0 = "onnx.Conv"(%x, %w) {pads = [1, 1, 1, 1]} : (tensor<?x3x16x16xf32>, tensor<8x3x3x3xf32>) -> tensor<*xf32> loc("conv")
                %1 = "onnx.Relu"(%0) : (tensor<*xf32>) -> tensor<*xf32> loc("relu")
                %2 = "onnx.MaxPool"(%1) {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<*xf32>) -> tensor<*xf32> loc("pool")
                %3 = "onnx.GlobalAveragePool"(%2) : (tensor<*xf32>) -> tensor<*xf32> loc("gap")
                %4 = "onnx.Flatten"(%3) : (tensor<*xf32>) -> tensor<*xf32> loc("flatten")
                %5 = "onnx.Gemm"(%4, %fw) {transB = 1 : i64} : (tensor<*xf32>, tensor<10x8xf32>) -> tensor<*xf32> loc("fc")
                %6 = "onnx.Softmax"(%5) {axis = 1 : i64} : (tensor<*xf32>) -> tensor<*xf32> loc("softmax")
                return %6 : tensor<*xf32>
            """, args: "%x: tensor<?x3x16x16xf32>");
        var pm = new PassManager();
        pm.Passes.Add(PassRegistry.Create("infer-shapes"));
        var run = pm.Run(module).Single();

        Assert.Equal("tensor<?x8x16x16xf32>", Op(module, "relu").Result.Type.Text);
        Assert.Equal("tensor<?x8x8x8xf32>", Op(module, "pool").Result.Type.Text);
        Assert.Equal("tensor<?x8xf32>", Op(module, "flatten").Result.Type.Text);
        Assert.Equal("tensor<?x10xf32>", Op(module, "softmax").Result.Type.Text);
        Assert.Equal("(tensor<?x3x16x16xf32>) -> tensor<?x10xf32>", module.MainFunction.Type.Text);
        var counters = run.Context.Counters.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(7, counters["results refined"]);
        Assert.Equal(1, counters["function types updated"]);
        Assert.Empty(run.Context.Skips);
    }

    [Fact]
    public void PassReportsAContradictionAsAnErrorAndNamesTheNode()
    {
        var module = Parse("""
                %0 = "onnx.Transpose"(%x) {perm = [0, 2, 3, 1]} : (tensor<1x3x16x16xf32>) -> tensor<1x3x16x16xf32> loc("Transpose_3")
                return %0 : tensor<1x3x16x16xf32>
            """, result: "tensor<1x3x16x16xf32>");
        var pm = new PassManager();
        pm.Passes.Add(new InferShapes());
        var e = Assert.Throws<MirException>(() => pm.Run(module));
        Assert.Contains("'onnx.Transpose' at \"Transpose_3\"", e.Message);
        Assert.Contains("declared tensor<1x3x16x16xf32> but the inputs give tensor<1x16x16x3xf32>", e.Message);
    }

    [Fact]
    public void PassSkipsWhatItCannotInferAndLeavesItAlone()
    {
        var module = Parse("""
                %0 = "onnx.Custom"(%x) : (tensor<1x3x16x16xf32>) -> tensor<*xf32> loc("custom")
                %1 = "onnx.Relu"(%0) : (tensor<*xf32>) -> tensor<*xf32> loc("relu")
                return %1 : tensor<*xf32>
            """);
        var context = new PassContext();
        new InferShapes().Run(module, context);
        Assert.Equal("tensor<*xf32>", Op(module, "relu").Result.Type.Text);
        Assert.Equal(new[] { "custom: no shape rule for onnx.Custom" }, context.Skips);
        Assert.DoesNotContain(context.Counters, kv => kv.Key == "results refined");
    }

    [Fact]
    public void OpsetDecidesBetweenAttributeAndInputForms()
    {
        const string body = """
                %0 = "onnx.Unsqueeze"(%x) {axes = [0]} : (tensor<1x3x16x16xf32>) -> tensor<*xf32> loc("u")
                return %0 : tensor<*xf32>
            """;
        Assert.Equal("tensor<1x1x3x16x16xf32>", Inferred(Parse(body, opset: 11), "u"));
        Assert.Null(Inferred(Parse(body, opset: 13), "u"));
        // Without an opset the form present is taken.
        Assert.Equal("tensor<1x1x3x16x16xf32>", Inferred(Parse(body, opset: null), "u"));
    }

    [Fact]
    public void ReshapeWithZeroAndMinusOne()
    {
        var module = Parse("""
                %s = "onnx.Constant"() {value = dense<[0, -1]> : tensor<2xi64>} : () -> tensor<2xi64> loc("s")
                %0 = "onnx.Reshape"(%x, %s) : (tensor<?x3x16x16xf32>, tensor<2xi64>) -> tensor<*xf32> loc("r")
                return %0 : tensor<*xf32>
            """, args: "%x: tensor<?x3x16x16xf32>");
        Assert.Equal("tensor<?x768xf32>", Inferred(module, "r"));
    }

    [Theory]
    [InlineData("kernel_shape = [3, 3], strides = [2, 2]", "tensor<1x3x7x7xf32>")]
    [InlineData("ceil_mode = 1 : i64, kernel_shape = [3, 3], strides = [2, 2]", "tensor<1x3x8x8xf32>")]
    [InlineData("auto_pad = \"SAME_UPPER\", kernel_shape = [3, 3], strides = [2, 2]", "tensor<1x3x8x8xf32>")]
    [InlineData("auto_pad = \"VALID\", kernel_shape = [3, 3], strides = [2, 2]", "tensor<1x3x7x7xf32>")]
    [InlineData("dilations = [2, 2], kernel_shape = [3, 3], pads = [2, 2, 2, 2]", "tensor<1x3x16x16xf32>")]
    [InlineData("ceil_mode = 1 : i64, kernel_shape = [2, 2], pads = [0, 0, 1, 1], strides = [2, 2]", "tensor<1x3x8x8xf32>")]
    public void MaxPoolOutputSizes(string attrs, string expected)
    {
        var module = Parse($$"""
                %0 = "onnx.MaxPool"(%x) {{{attrs}}} : (tensor<1x3x16x16xf32>) -> tensor<*xf32> loc("p")
                return %0 : tensor<*xf32>
            """);
        Assert.Equal(expected, Inferred(module, "p"));
    }
}
