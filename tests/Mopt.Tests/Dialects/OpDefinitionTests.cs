using Mopt.Dialects;
using Mopt.Ir;

namespace Mopt.Tests.Dialects;

/// <summary>
/// The op definitions passes ask instead of op names: ONNX's generated table with its traits and interfaces, the
/// versions it covers, and what the registry answers for ops it does not define.
/// </summary>
public sealed class OpDefinitionTests
{
    private static readonly DialectRegistry Registry = StandardDialects.Registry;

    private static OpDefinition Def(string name) => Registry.Find(name) ?? throw new Xunit.Sdk.XunitException($"{name} is not defined");

    /// <summary>The first operation of <paramref name="function"/>, parsed in a module.</summary>
    private static Operation Op(string function) => Module(function).MainFunction.Body.Operations[0];

    private static MirModule Module(string function) => Mir.Parse("module {\n" + function + "\n}");

    [Fact]
    public void EveryOnnxOperatorIsEitherPureOrNonDeterministic()
    {
        var ops = OnnxDialect.Dialect.Ops.ToList();
        Assert.True(ops.Count >= 190, $"only {ops.Count} ONNX operators are defined");
        foreach (var def in ops)
        {
            bool pure = def.Has(OpTraits.Pure), random = def.Has(OpTraits.NonDeterministic);
            Assert.True(pure ^ random, $"{def.Name}: Pure {pure}, NonDeterministic {random}: exactly one expected");
            Assert.False(def.Has(OpTraits.HasEffects), $"{def.Name} says HasEffects");
            Assert.True(def.Traits.IsRemovableWhenUnused(), def.Name);
        }
        foreach (var name in new[] { "onnx.RandomNormalLike", "onnx.RandomUniform", "onnx.Dropout", "onnx.Bernoulli", "onnx.Multinomial" })
        {
            Assert.True(Def(name).Has(OpTraits.NonDeterministic), name);
            Assert.False(Def(name).Traits.IsPure(), $"{name} must never be merged or folded");
        }
        Assert.True(Def("onnx.GridSample").Traits.IsPure());
    }

    [Fact]
    public void ConstantIsConstantLikeAndGivesItsValue()
    {
        var def = Def("onnx.Constant");
        Assert.True(def.Has(OpTraits.ConstantLike));
        var constant = def.Interface<IConstantLike>();
        Assert.NotNull(constant);

        var op = Op("""
            func.func @main() -> tensor<2xf32> {
              %c = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
              return %c : tensor<2xf32>
            }
            """);
        Assert.Same(op.GetAttr("value"), constant.ValueAttribute(op));
        var replacement = DenseElementsAttr.Create(new TensorType(ElementType.F32, [2]), new byte[8]);
        constant.SetValueAttribute(op, replacement);
        Assert.Same(replacement, op.GetAttr("value"));

        // Only Constant: no other ONNX operator claims to be a constant.
        Assert.Equal(new[] { "onnx.Constant" }, OnnxDialect.Dialect.Ops.Where(d => d.Has(OpTraits.ConstantLike)).Select(d => d.Name).ToArray());
    }

    [Theory]
    [InlineData("onnx.Conv", "", 1, 0, 1, 2)]
    [InlineData("onnx.ConvTranspose", "", 1, 1, 0, 2)]
    [InlineData("onnx.Gemm", "", 1, 1, 0, 2)]
    [InlineData("onnx.Gemm", "{transB = 1 : i64}", 1, 0, 1, 2)]
    [InlineData("onnx.Gemm", "{transB = 0 : i64}", 1, 1, 0, 2)]
    [InlineData("onnx.MatMul", "", 1, 1, 0, -1)]
    public void LayersGiveTheirWeightsOutputAxis(string opName, string attrs, int weight, int output, int input, int bias)
    {
        var op = Op($$"""
            func.func @main(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %b: tensor<4xf32>) -> tensor<4x4xf32> {
              %y = "{{opName}}"(%x, %w, %b) {{attrs}} : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
              return %y : tensor<4x4xf32>
            }
            """);
        var layout = Registry.Interface<IWeightLayout>(op);
        Assert.NotNull(layout);
        Assert.Equal(new WeightAxes(weight, output, input, bias), layout.WeightAxesOf(op));
    }

    [Fact]
    public void MatMulsOutputAxisIsTheLastAxisOfB()
    {
        var batched = Op("""
            func.func @main(%x: tensor<2x3x4xf32>, %w: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
              %y = "onnx.MatMul"(%x, %w) : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
              return %y : tensor<2x3x5xf32>
            }
            """);
        Assert.Equal(new WeightAxes(1, 2, 1), Registry.Interface<IWeightLayout>(batched)!.WeightAxesOf(batched));
        var vector = Op("""
            func.func @main(%x: tensor<3x4xf32>, %w: tensor<4xf32>) -> tensor<3xf32> {
              %y = "onnx.MatMul"(%x, %w) : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3xf32>
              return %y : tensor<3xf32>
            }
            """);
        Assert.Null(Registry.Interface<IWeightLayout>(vector)!.WeightAxesOf(vector));
    }

    [Fact]
    public void OpsWithoutAWeightHaveNoLayout()
    {
        foreach (var name in new[] { "onnx.Relu", "onnx.Add", "onnx.BatchNormalization", "onnx.Constant" })
            Assert.Null(Def(name).Interface<IWeightLayout>());
    }

    [Fact]
    public void QuantizedLayersNameTheirOwnWeightOperand()
    {
        // QLinearConv(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B): w is operand 3, B 8.
        var args = string.Join(", ", Enumerable.Repeat("%a", 9));
        var types = string.Join(", ", Enumerable.Repeat("tensor<1xf32>", 9));
        var op = Op($$"""
            func.func @main(%a: tensor<1xf32>) -> tensor<1xf32> {
              %y = "onnx.QLinearConv"({{args}}) : ({{types}}) -> tensor<1xf32>
              return %y : tensor<1xf32>
            }
            """);
        Assert.Equal(new WeightAxes(3, 0, 1, 8), Registry.Interface<IWeightLayout>(op)!.WeightAxesOf(op));
        // ConvInteger's operand 2 is x's zero point, not a bias.
        Assert.Equal(-1, Def("onnx.ConvInteger").Interface<IWeightLayout>()!.WeightAxesOf(op)!.BiasOperand);
    }

    [Fact]
    public void VersionAtIsTheLastVersionNotAboveTheOpset()
    {
        var squeeze = Def("onnx.Squeeze");
        Assert.Equal(new[] { 1, 11, 13, 21 }, squeeze.Versions.ToArray());
        Assert.Null(squeeze.VersionAt(0));
        Assert.Equal(1, squeeze.VersionAt(7));
        Assert.Equal(11, squeeze.VersionAt(12));
        Assert.Equal(13, squeeze.VersionAt(13));
        Assert.Equal(13, squeeze.VersionAt(17));
        Assert.Equal(21, squeeze.VersionAt(22));
    }

    [Fact]
    public void AttributesSayWhichVersionsHaveThem()
    {
        var axes = Def("onnx.Squeeze").Attribute("axes")!;
        Assert.Equal(AttrKind.Ints, axes.Kind);
        Assert.Equal(12, axes.Until);
        Assert.True(axes.InVersion(11));
        Assert.True(axes.InVersion(12));
        Assert.False(axes.InVersion(13));
        // Squeeze took axes as an operand from 13: an optional second slot.
        Assert.Equal(Arity.Optional, Def("onnx.Squeeze").Operands[1].Arity);

        var group = Def("onnx.Conv").Attribute("group")!;
        Assert.Equal((AttrKind.Int, "1", (int?)null), (group.Kind, group.Default, group.Until));
        Assert.Equal(AttrKind.Int, Def("onnx.Cast").Attribute("to")!.Kind);
        Assert.Equal(AttrKind.String, Def("onnx.Cast").Attribute("to")!.FormerKind); // Cast-1 named the type
        Assert.Equal(18, Def("onnx.Split").Attribute("num_outputs")!.Since);
    }

    [Fact]
    public void OperandCountsCoverEveryVersion()
    {
        Assert.Equal(new CountRange(2, 3), Def("onnx.Conv").OperandCounts);
        Assert.Equal(new CountRange(1, 5), Def("onnx.Slice").OperandCounts);   // Slice-1 took one, Slice-10 three to five
        Assert.Equal(new CountRange(1, null), Def("onnx.Concat").OperandCounts); // variadic, at least one
        Assert.Equal(new CountRange(0, null), Def("func.return").OperandCounts);
        Assert.Equal(new CountRange(0, null), Def("mo.yield").OperandCounts);
    }

    [Fact]
    public void OpsWithoutADefinitionAreNeitherRemovableNorPure()
    {
        foreach (var name in new[] { "onnx.com.microsoft.FusedConv", "custom.Thing" })
        {
            var op = Op($$"""
                func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
                  %y = "{{name}}"(%x) : (tensor<2xf32>) -> tensor<2xf32>
                  return %x : tensor<2xf32>
                }
                """);
            Assert.Null(Registry.Find(op));
            Assert.False(Registry.IsRemovableWhenUnused(op));
            Assert.False(Registry.IsPure(op));
        }
    }

    [Fact]
    public void AnOpWithRegionsIsRemovableOnlyWhenEverythingInThemIs()
    {
        var module = Module("""
            func.func @main(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
              %a = "onnx.If"(%c) ({
                %n = "onnx.Neg"(%x) : (tensor<2xf32>) -> tensor<2xf32>
                "mo.yield"(%n) : (tensor<2xf32>) -> ()
              }) : (tensor<i1>) -> tensor<2xf32>
              %b = "onnx.If"(%c) ({
                "custom.Print"(%x) : (tensor<2xf32>) -> ()
                "mo.yield"(%x) : (tensor<2xf32>) -> ()
              }) : (tensor<i1>) -> tensor<2xf32>
              return %x : tensor<2xf32>
            }
            """);
        var ops = module.MainFunction.Body.Operations;
        Assert.True(Registry.IsRemovableWhenUnused(ops[0]));
        Assert.False(Registry.IsRemovableWhenUnused(ops[1]));
        Assert.Equal("custom.Print", Registry.FirstEffectInRegions(ops[1])!.Name);
    }
}
