using Mopt.Ir;
using Mopt.Ir.Printing;

namespace Mopt.Tests;

/// <summary>The printer: MLIR's spelling of numbers, names, strings, constants and the trailer.</summary>
public sealed class PrinterTests
{
    /// <summary>The text of <paramref name="attr"/> as the value of an attribute <c>a</c> (a unit value prints as just <c>{a}</c>).</summary>
    private static string PrintAttr(Attr attr)
    {
        var m = MirModule.Create();
        m.Body.Append(new Operation("t.x", [], [], [new NamedAttr("a", attr)]));
        var text = Mir.Print(m);
        const string prefix = "module {\n  \"t.x\"() {a = ";
        Assert.StartsWith(prefix, text);
        var end = text.IndexOf("} : () -> ()\n}", StringComparison.Ordinal);
        return text[prefix.Length..end];
    }

    [Theory]
    [InlineData(1.0, "f32", "1.000000e+00")]
    [InlineData(0.1, "f64", "1.000000e-01")]
    [InlineData(0.1, "f32", "1.000000e-01")]
    [InlineData(-0.0, "f32", "-0.000000e+00")]
    [InlineData(1.0 / 3, "f64", "0.33333333333333331")]
    [InlineData(1e-5, "f32", "9.99999974E-6")]
    [InlineData(0.9, "f32", "0.899999976")]
    [InlineData(1e-5, "f64", "1.000000e-05")]
    [InlineData(65504.0, "f16", "6.550400e+04")]
    [InlineData(1e300, "f64", "1.000000e+300")]
    [InlineData(double.PositiveInfinity, "f32", "0x7F800000")]
    [InlineData(double.NegativeInfinity, "f64", "0xFFF0000000000000")]
    [InlineData(double.PositiveInfinity, "f16", "0x7C00")]
    [InlineData(double.NegativeInfinity, "bf16", "0xFF80")]
    [InlineData(double.NaN, "f32", "0xFFC00000")]
    public void FloatsPrintAsMlirSpellsThem(double value, string type, string expected)
    {
        var t = ElementType.TryGet(type)!;
        Assert.Equal(expected, FloatFormat.Format(ElementCodec.RoundTo(t, value), t));
    }

    [Fact]
    public void FloatNeedingMoreDigitsStillReadsBackExactly()
    {
        float f = BitConverter.Int32BitsToSingle(0x3F9D70A4); // 1.23f
        var text = FloatFormat.Format(f, ElementType.F32);
        Assert.Equal("1.230000e+00", text);
        float g = BitConverter.Int32BitsToSingle(0x3F9D70A5); // the next float up
        var text2 = FloatFormat.Format(g, ElementType.F32);
        Assert.Equal("1.23000014", text2); // mlir-opt's spelling: f32's natural precision
        Assert.Equal(g, float.Parse(text2, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void IntegersPrintWithTheirTypeExceptI64InArrays()
    {
        Assert.Equal("-5 : i8", PrintAttr(new IntegerAttr(-5, ElementType.I8)));
        Assert.Equal("18446744073709551615 : ui64", PrintAttr(new IntegerAttr(-1, ElementType.UI64)));
        Assert.Equal("7 : index", PrintAttr(new IntegerAttr(7, ElementType.Index)));
        Assert.Equal("[1, -2, 3 : i32, 2.500000e+00, 1.500000e+00 : f32]",
            PrintAttr(ArrayAttr.Of([IntegerAttr.I64(1), IntegerAttr.I64(-2), new IntegerAttr(3, ElementType.I32), new FloatAttr(2.5, ElementType.F64), FloatAttr.F32(1.5f)])));
        Assert.Equal("3 : i64", PrintAttr(IntegerAttr.I64(3)));
        Assert.Equal("2.500000e+00 : f64", PrintAttr(new FloatAttr(2.5, ElementType.F64)));
    }

    [Fact]
    public void OtherAttributeKinds()
    {
        Assert.Equal("true", PrintAttr(BoolAttr.True));
        Assert.Equal("[unit, true]", PrintAttr(ArrayAttr.Of([UnitAttr.Instance, BoolAttr.True])));
        Assert.Equal("array<i64: 1, 2>", PrintAttr(DenseArrayAttr.OfInts(ElementType.I64, [1L, 2L])));
        Assert.Equal("array<i1: true, false>", PrintAttr(DenseArrayAttr.OfInts(ElementType.I1, [1L, 0L])));
        Assert.Equal("array<f32: 5.000000e-01>", PrintAttr(DenseArrayAttr.OfFloats(ElementType.F32, [0.5])));
        Assert.Equal("array<i32>", PrintAttr(DenseArrayAttr.OfInts(ElementType.I32, [])));
        Assert.Equal("@a::@b", PrintAttr(new SymbolRefAttr("a", ValueList.Of("b"))));
        Assert.Equal("@\"has space\"", PrintAttr(new SymbolRefAttr("has space")));
        Assert.Equal("tensor<?x2xi8>", PrintAttr(new TypeAttr(new TensorType(ElementType.I8, [-1, 2]))));
        Assert.Equal("{\"a-b\" = 1 : i64, \"with space\", z = \"s\"}",
            PrintAttr(DictionaryAttr.From([new NamedAttr("z", new StringAttr("s")), new NamedAttr("with space", UnitAttr.Instance), new NamedAttr("a-b", IntegerAttr.I64(1))])));
        Assert.Equal("dense_resource<w> : tensor<2xf32>", PrintAttr(new DenseResourceAttr(new TensorType(ElementType.F32, [2]), "w")));
    }

    [Fact]
    public void StringsAreEscapedAsLlvmDoes()
    {
        Assert.Equal("\"q\\22 b\\\\\\0A\\09\\C3\\A9\"", PrintAttr(new StringAttr("q\" b\\\n\t\u00e9")));
        Assert.Equal("\"\"", PrintAttr(new StringAttr("")));
    }

    [Fact]
    public void DenseConstantsPrintNestedUpToAHundredElementsThenHex()
    {
        var t100 = new TensorType(ElementType.I8, [10, 10]);
        var d100 = new DenseElementsAttr(t100, Enumerable.Range(0, 100).Select(i => (byte)i).ToArray(), false);
        var p100 = PrintAttr(d100);
        Assert.StartsWith("dense<[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10, ", p100);
        Assert.EndsWith("]]> : tensor<10x10xi8>", p100);

        var t101 = new TensorType(ElementType.I8, [101]);
        var d101 = new DenseElementsAttr(t101, Enumerable.Range(0, 101).Select(i => (byte)i).ToArray(), false);
        Assert.Equal("dense<\"0x" + Convert.ToHexString(d101.Data.Span) + "\"> : tensor<101xi8>", PrintAttr(d101));

        var bools = new DenseElementsAttr(new TensorType(ElementType.I1, [101]), Enumerable.Range(0, 101).Select(i => (byte)(i & 1)).ToArray(), false);
        Assert.StartsWith("dense<[false, true, false", PrintAttr(bools));

        Assert.Equal("dense<2.500000e+00> : tensor<1000xf32>", PrintAttr(DenseElementsAttr.FromFloats(new TensorType(ElementType.F32, [1000]), [2.5f])));
        Assert.Equal("dense<> : tensor<0x3xf32>", PrintAttr(new DenseElementsAttr(new TensorType(ElementType.F32, [0, 3]), Array.Empty<byte>(), false)));
        Assert.Equal("dense<-1> : tensor<i16>", PrintAttr(new DenseElementsAttr(new TensorType(ElementType.I16, []), new byte[] { 0xFF, 0xFF }, false)));
        Assert.Equal("dense<[65535, 1]> : tensor<2xui16>", PrintAttr(new DenseElementsAttr(new TensorType(ElementType.UI16, [2]), new byte[] { 0xFF, 0xFF, 1, 0 }, false)));
        Assert.Equal("dense<[[1.000000e+00]]> : tensor<1x1xbf16>", PrintAttr(new DenseElementsAttr(new TensorType(ElementType.BF16, [1, 1]), new byte[] { 0x80, 0x3F }, false)));
    }

    [Fact]
    public void ValueNamesRestartInEachFunction()
    {
        var m = Mir.Parse("""
            module {
              func.func @a(%x: i32) -> i32 {
                %r = "t.x"(%x) : (i32) -> i32
                return %r : i32
              }
              func.func @b(%y: i32, %z: i32) -> i32 {
                %s:2 = "t.y"(%z) : (i32) -> (i32, i32)
                %t = "t.z"(%s#1) : (i32) -> i32
                return %t : i32
              }
            }
            """);
        var text = Mir.Print(m);
        Assert.Contains("func.func @a(%arg0: i32) -> i32 {\n    %0 = \"t.x\"(%arg0) : (i32) -> i32\n    return %0 : i32\n", text);
        Assert.Contains("func.func @b(%arg0: i32, %arg1: i32) -> i32 {\n    %0:2 = \"t.y\"(%arg1) : (i32) -> (i32, i32)\n    %1 = \"t.z\"(%0#1) : (i32) -> i32\n", text);
    }

    [Fact]
    public void LocationsCanBeLeftOut()
    {
        var m = Mir.Parse("""
            module {
              func.func @main(%x: i32 loc("x")) -> i32 {
                %0 = "t.x"(%x) : (i32) -> i32 loc(fused["a", "b"])
                return %0 : i32 loc("ret")
              } loc("f")
            } loc("m")
            """);
        var with = Mir.Print(m);
        Assert.Contains("loc(fused[\"a\", \"b\"])", with);
        Assert.Contains("} loc(\"m\")\n", with);
        var without = Mir.Print(m, new PrintOptions { PrintLocations = false });
        Assert.DoesNotContain("loc(", without);
    }

    [Fact]
    public void EmptyModuleAndFunctionsWithoutResults()
    {
        Assert.Equal("module {\n}\n\n", Mir.Print(MirModule.Create())); // as mlir-opt: a blank line after the module
        var m = MirModule.Create("n");
        var f = m.AddFunction("main", [], []);
        OpBuilder.AtEnd(f.Body).Return([]);
        Assert.Equal("module @n {\n  func.func @main() {\n    return\n  }\n}\n\n", Mir.Print(m));
    }

    [Fact]
    public void FunctionTypedResultsAreParenthesized()
    {
        var fnType = new FunctionType([ElementType.I32], [ElementType.I32]);
        var m = MirModule.Create();
        var f = m.AddFunction("main", [], [fnType]);
        var b = OpBuilder.AtEnd(f.Body);
        var op = b.Create("t.fn", [], [fnType]);
        b.Return([op.Result]);
        var text = Mir.Print(m);
        Assert.Contains("func.func @main() -> ((i32) -> i32) {", text);
        Assert.Contains("%0 = \"t.fn\"() : () -> ((i32) -> i32)", text);
        Mir.AssertRoundTrip(m, out _);
    }

    [Fact]
    public void OnlyTheModuleFuncAndReturnUseCustomForms()
    {
        // A func.func without the attributes that make it a function prints in the generic form.
        var m = MirModule.Create();
        var odd = new Operation("func.func", [], [], [new NamedAttr("sym_name", IntegerAttr.I64(1))]);
        odd.AddRegion().AddBlock();
        m.Body.Append(odd);
        var text = Mir.Print(m);
        Assert.Contains("\"func.func\"() ({\n  }) {sym_name = 1 : i64} : () -> ()", text);
    }
}
