using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;

namespace Mopt.Tests;

/// <summary>print(parse(print(m))) == print(m), and the reparsed module is the same module, floats bit for bit.</summary>
public sealed class RoundTripTests
{
    [Fact]
    public void ExampleModulePrintsIdenticallyAfterReparse()
    {
        var path = Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir");
        var original = MirReader.ParseFile(path);
        var first = MirPrinter.PrintToString(original);
        var reparsed = MirReader.ParseText(first, "reprinted.mir");
        var second = MirPrinter.PrintToString(reparsed);
        Assert.Equal(first, second);
        Assert.Contains("dialect_resources", first);
        IrAssert.Equivalent(original, reparsed);
    }

    public static IEnumerable<object[]> Seeds(int from, int count) => Enumerable.Range(from, count).Select(s => new object[] { s });

    /// <summary>400 random modules, in batches so that a failure names its seed.</summary>
    [Theory]
    [MemberData(nameof(Seeds), 0, 20)]
    public void GeneratedModulesRoundTrip(int batch)
    {
        for (int seed = batch * 20; seed < batch * 20 + 20; seed++)
        {
            var module = new ModuleGenerator(seed).Generate();
            Verifier.Verify(module, $"generated module (seed {seed})");
            MirModule reparsed;
            string printed;
            try { reparsed = Mir.AssertRoundTrip(module, out printed); }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"seed {seed}: {e.Message}"); }
            try { IrAssert.Equivalent(module, reparsed); }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"seed {seed}: {e.Message}\n---\n{printed}"); }
        }
    }

    [Fact]
    public void GeneratorCoversEveryFeatureItIsMeantTo()
    {
        // The generated corpus is only a good test if it really contains what the round trip is about.
        var text = string.Concat(Enumerable.Range(0, 400).Select(s => Mir.Print(new ModuleGenerator(s).Generate())));
        foreach (var needle in new[]
        {
            "xf16>", "xbf16>", "xf64>", "xi1>", "xui64>", "tensor<*x", "tensor<?x", "0x7FC00000", "0xFF800000", "0x7C00", "0x7F80",
            "-0.000000e+00", "0x7F800001", "0x7C01", "dense<\"0x", "dense_resource<", "array<i1", "array<f32", ":2 = ", ":3 = ", "#1", "^bb1(", "loc(fused[",
            "loc(fused<", "loc(callsite(", ":12:", "\\22", "\\0A", "@\"", "::@", ": index", "!onnx.Seq<", "{-#", "unit",
        })
            Assert.True(text.Contains(needle, StringComparison.Ordinal), $"the generated corpus never contains '{needle}'");
    }

    [Theory]
    [InlineData("f32", "0x7FC00000")]
    [InlineData("f32", "0xFFC00001")]
    [InlineData("f32", "0x7F800000")]
    [InlineData("f32", "0x00000001")]
    [InlineData("f16", "0x7E00")]
    [InlineData("f16", "0xFC00")]
    [InlineData("f16", "0x0001")]
    [InlineData("f16", "0x7BFF")]
    [InlineData("bf16", "0x7FC0")]
    [InlineData("bf16", "0xFF80")]
    [InlineData("bf16", "0x0001")]
    [InlineData("f64", "0x7FF8000000000001")]
    [InlineData("f64", "0x0000000000000001")]
    public void SpecialFloatsComeBackBitExact(string type, string bits)
    {
        var elem = ElementType.TryGet(type)!;
        ulong expected = Convert.ToUInt64(bits[2..], 16);
        var text = $$"""
            module {
              "t.x"() {a = {{bits}} : {{type}}, d = dense<[{{bits}}, 1.0]> : tensor<2x{{type}}>, s = dense<{{bits}}> : tensor<3x{{type}}>} : () -> ()
            }
            """;
        var m = Mir.Parse(text);
        var reparsed = Mir.AssertRoundTrip(m, out var printed);
        var op = reparsed.Body.Operations[0];
        Assert.Equal(expected, ElementCodec.BitsOf(elem, op.GetAttr<FloatAttr>("a")!.Value));
        var d = op.GetAttr<DenseElementsAttr>("d")!;
        Assert.Equal(expected, ReadBits(d.Data.Span, elem));
        var s = op.GetAttr<DenseElementsAttr>("s")!;
        Assert.True(s.IsSplat);
        Assert.Equal(expected, ReadBits(s.Data.Span, elem));
        Assert.Contains("1.000000e+00", printed);
    }

    /// <summary>A signalling NaN is a valid bit pattern in a weight tensor; it must come back as it was.</summary>
    [Theory]
    [InlineData("f32", "0x7F800001")]
    [InlineData("f16", "0x7C01")]
    [InlineData("bf16", "0x7F81")]
    public void SignallingNaNInDenseConstantComesBackBitExact(string type, string bits)
    {
        var text = $$"""
            module {
              "t.x"() {d = dense<[{{bits}}, 1.0]> : tensor<2x{{type}}>} : () -> ()
            }
            """;
        var printed = Mir.Print(Mir.Parse(text));
        Assert.Contains($"dense<[{bits}, 1.000000e+00]>", printed);
    }

    [Fact]
    public void F64SpecialValueInArrayStaysAFloat()
    {
        var m = Mir.Parse("""
            module {
              "t.x"() {a = [0x7FF8000000000000 : f64, 1.5]} : () -> ()
            }
            """);
        var reparsed = Mir.AssertRoundTrip(m, out var printed);
        var arr = reparsed.Body.Operations[0].GetAttr<ArrayAttr>("a")!;
        Assert.IsType<FloatAttr>(arr.Elements[0]);
        Assert.Contains("0x7FF8000000000000 : f64", printed);
    }

    [Fact]
    public void F64InArrayPrintsWithoutTypeAndComesBackAsF64()
    {
        var m = Mir.Parse("""
            module {
              "t.x"() {a = [1.5, -0.0, 3, 2.5 : f32, 7 : i8]} : () -> ()
            }
            """);
        var reparsed = Mir.AssertRoundTrip(m, out var printed);
        Assert.Contains("a = [1.500000e+00, -0.000000e+00, 3, 2.500000e+00 : f32, 7 : i8]", printed);
        var arr = reparsed.Body.Operations[0].GetAttr<ArrayAttr>("a")!;
        Assert.Equal(ElementType.F64, ((FloatAttr)arr.Elements[1]).Type);
        Assert.True(double.IsNegative(((FloatAttr)arr.Elements[1]).Value));
        Assert.Equal(IntegerAttr.I64(3), arr.Elements[2]);
    }

    [Fact]
    public void ModuleWithoutWrapperIsWrappedAndRoundTrips()
    {
        var m = Mir.Parse("""
            "t.a"() : () -> ()
            "t.b"() : () -> ()
            """);
        var reparsed = Mir.AssertRoundTrip(m, out var printed);
        Assert.StartsWith("module {\n", printed);
        Assert.Equal(2, reparsed.Body.Operations.Count);
    }

    private static ulong ReadBits(ReadOnlySpan<byte> data, ElementType elem) => elem.BitWidth switch
    {
        16 => BitConverter.ToUInt16(data),
        32 => BitConverter.ToUInt32(data),
        _ => BitConverter.ToUInt64(data),
    };
}
