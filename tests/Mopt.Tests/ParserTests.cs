using Mopt.Ir;

namespace Mopt.Tests;

/// <summary>The reader: each piece of the .mir surface becomes the IR it stands for.</summary>
public sealed class ParserTests
{
    private static Operation OnlyOp(string opText)
    {
        var m = Mir.Parse("module {\n  " + opText + "\n}\n");
        return Assert.Single(m.Body.Operations);
    }

    private static Attr AttrOf(string attrText) => OnlyOp($"\"t.x\"() {{a = {attrText}}} : () -> ()").GetAttr("a")!;

    [Theory]
    [InlineData("tensor<1x3x224x224xf32>", "f32", new long[] { 1, 3, 224, 224 })]
    [InlineData("tensor<?x3xbf16>", "bf16", new long[] { -1, 3 })]
    [InlineData("tensor<f16>", "f16", new long[0])]
    [InlineData("tensor<0xf32>", "f32", new long[] { 0 })]
    [InlineData("tensor<0xbf16>", "bf16", new long[] { 0 })]
    [InlineData("tensor<0xi8>", "i8", new long[] { 0 })]
    [InlineData("tensor<2x0xui64>", "ui64", new long[] { 2, 0 })]
    [InlineData("tensor<0x3xf64>", "f64", new long[] { 0, 3 })]
    [InlineData("tensor<1xi1>", "i1", new long[] { 1 })]
    public void RankedTensorTypes(string text, string element, long[] shape)
    {
        var op = OnlyOp($"%0 = \"t.x\"() : () -> {text}");
        var t = Assert.IsType<TensorType>(op.Result.Type);
        Assert.Equal(element, t.Element.Name);
        Assert.Equal(shape, t.Shape);
        Assert.Equal(text, t.Text);
    }

    [Fact]
    public void OtherTypes()
    {
        var op = OnlyOp("%0:6 = \"t.x\"() : () -> (tensor<*xi64>, index, none, !onnx.Seq<tensor<2x?xf32>>, (i32, f32) -> (), (i32) -> ((i8) -> i8))");
        Assert.Equal(["tensor<*xi64>", "index", "none", "!onnx.Seq<tensor<2x?xf32>>", "(i32, f32) -> ()", "(i32) -> ((i8) -> i8)"],
            op.Results.Select(r => r.Type.Text));
        Assert.False(((TensorType)op.Results[0].Type).IsRanked);
        Assert.IsType<OpaqueType>(op.Results[3].Type);
        var fn = Assert.IsType<FunctionType>(op.Results[4].Type);
        Assert.Equal(2, fn.Inputs.Count);
        Assert.Empty(fn.Results);
    }

    [Fact]
    public void NumbersAndTheirTypes()
    {
        Assert.Equal(IntegerAttr.I64(3), AttrOf("3"));
        Assert.Equal(new IntegerAttr(-128, ElementType.I8), AttrOf("-128 : i8"));
        Assert.Equal(new IntegerAttr(-1, ElementType.I8), AttrOf("255 : i8")); // signless accepts the unsigned range, held sign-extended as MLIR does
        Assert.Equal(new IntegerAttr(-32768, ElementType.I16), AttrOf("32768 : i16"));
        Assert.Equal(new IntegerAttr(255, ElementType.UI8), AttrOf("255 : ui8"));
        Assert.Equal(new IntegerAttr(-1, ElementType.UI64), AttrOf("18446744073709551615 : ui64"));
        Assert.Equal(new IntegerAttr(0x7F, ElementType.I32), AttrOf("0x7F : i32"));
        Assert.Equal(new IntegerAttr(7, ElementType.Index), AttrOf("7 : index"));
        Assert.Equal(BoolAttr.True, AttrOf("1 : i1"));
        Assert.Equal(BoolAttr.False, AttrOf("false"));
        Assert.Equal(new FloatAttr(1.5, ElementType.F64), AttrOf("1.5"));
        Assert.Equal(new FloatAttr((float)1e-5, ElementType.F32), AttrOf("1.0e-05 : f32"));
        Assert.Equal(new FloatAttr((double)(Half)0.1, ElementType.F16), AttrOf("0.1 : f16"));
        Assert.Equal(new FloatAttr(2.0, ElementType.BF16), AttrOf("2.0 : bf16"));
        Assert.True(double.IsPositiveInfinity(((FloatAttr)AttrOf("0x7F800000 : f32")).Value));
        Assert.True(double.IsNegative(((FloatAttr)AttrOf("-0.0 : f32")).Value));
        Assert.Equal(9.99999974E-6f, (float)((FloatAttr)AttrOf("9.99999974E-6 : f32")).Value); // mlir-opt's spelling
    }

    [Theory]
    [InlineData("-129 : i8", "-129 does not fit in i8")]
    [InlineData("256 : i8", "256 does not fit in i8")]
    [InlineData("-1 : ui8", "-1 does not fit in ui8")]
    [InlineData("2 : i1", "2 does not fit in i1")]
    [InlineData("18446744073709551616 : ui64", "does not fit in ui64")]
    [InlineData("1.5 : i32", "'1.5' is not an integer, but the type is i32")]
    [InlineData("1 : none", "a number cannot have type none")]
    [InlineData("1 : tensor<2xf32>", "a number attribute needs a scalar type")]
    [InlineData("\"s\" : i32", "typed string attributes are not supported")]
    [InlineData("dense<[1, 2]> : tensor<3xi32>", "dense literal has 2 elements in dimension 0, the type says 3")]
    [InlineData("dense<[[1], [2]]> : tensor<2xi32>", "dense literal is nested deeper than the shape's rank 1")]
    [InlineData("dense<[1, 2]> : tensor<2x1xi32>", "dense literal is nested 1 deep but the shape has rank 2")]
    [InlineData("dense<1> : tensor<?xi32>", "dense needs a static shape")]
    [InlineData("dense<\"0x0102\"> : tensor<3xi32>", "dense hex holds 2 bytes but tensor<3xi32> needs 12")]
    [InlineData("dense<true> : tensor<2xi8>", "'true' is not a i8")]
    [InlineData("dense<(1.0, 2.0)> : tensor<2xf32>", "complex constants are not supported")]
    [InlineData("dense<> : tensor<2xf32>", "an empty dense literal cannot fill tensor<2xf32>")]
    [InlineData("dense<1> : tensor<2xindex>", "dense cannot hold index elements")]
    [InlineData("array<f8: 1>", "unknown element type 'f8'")]
    [InlineData("#undefined", "undefined attribute alias '#undefined'")]
    public void BadAttributes(string attr, string message)
    {
        var e = Assert.Throws<MirException>(() => AttrOf(attr));
        Assert.Contains(message, e.Message);
        Assert.NotNull(e.Position);
        Assert.Equal(2, e.Position!.Line);
    }

    [Fact]
    public void CompositeAttributes()
    {
        var op = OnlyOp("""
            "t.x"() {arr = [1, "two", [3.0], {k = unit}], d = {"quoted key" = 1 : i8, b}, da = array<i64: 1, -2>, db = array<i1: true, false>, de = array<f32>, s = @root::@leaf, t = tensor<2xf32>, u, ft = (i32) -> f32} : () -> ()
            """);
        var arr = op.GetAttr<ArrayAttr>("arr")!;
        Assert.Equal(IntegerAttr.I64(1), arr.Elements[0]);
        Assert.Equal(new StringAttr("two"), arr.Elements[1]);
        Assert.Equal(ArrayAttr.Of([new FloatAttr(3.0, ElementType.F64)]), arr.Elements[2]);
        Assert.Equal(DictionaryAttr.From([new NamedAttr("k", UnitAttr.Instance)]), arr.Elements[3]);
        var d = op.GetAttr<DictionaryAttr>("d")!;
        Assert.Equal(["b", "quoted key"], d.Entries.Select(e => e.Name));
        Assert.Equal(UnitAttr.Instance, d.Get("b"));
        Assert.Equal(DenseArrayAttr.OfInts(ElementType.I64, [1L, -2L]), op.GetAttr("da"));
        Assert.Equal([1L, 0L], op.GetAttr<DenseArrayAttr>("db")!.Ints);
        Assert.Equal(0, op.GetAttr<DenseArrayAttr>("de")!.Count);
        Assert.Equal(new SymbolRefAttr("root", ValueList.Of("leaf")), op.GetAttr("s"));
        Assert.Equal(new TypeAttr(new TensorType(ElementType.F32, [2])), op.GetAttr("t"));
        Assert.Equal(UnitAttr.Instance, op.GetAttr("u"));
        Assert.IsType<FunctionType>(op.GetAttr<TypeAttr>("ft")!.Type);
    }

    [Fact]
    public void DenseConstants()
    {
        var op = OnlyOp("""
            "t.x"() {splat = dense<0.5> : tensor<4xf32>, nested = dense<[[1, 2], [3, 4]]> : tensor<2x2xi16>, hex = dense<"0x0100000002000000"> : tensor<2xi32>, hexsplat = dense<"0x07"> : tensor<3xi8>, bools = dense<[true, false, true]> : tensor<3xi1>, empty = dense<> : tensor<0xf32>, scalar = dense<-3> : tensor<i64>, neg = dense<[1, 255]> : tensor<2xui8>} : () -> ()
            """);
        var splat = op.GetAttr<DenseElementsAttr>("splat")!;
        Assert.True(splat.IsSplat);
        Assert.Equal(BitConverter.GetBytes(0.5f), splat.Data.ToArray());
        Assert.Equal(16, splat.ToFullBytes().Length);
        var nested = op.GetAttr<DenseElementsAttr>("nested")!;
        Assert.False(nested.IsSplat);
        Assert.Equal(new byte[] { 1, 0, 2, 0, 3, 0, 4, 0 }, nested.Data.ToArray());
        Assert.Equal(new byte[] { 1, 0, 0, 0, 2, 0, 0, 0 }, op.GetAttr<DenseElementsAttr>("hex")!.Data.ToArray());
        var hexsplat = op.GetAttr<DenseElementsAttr>("hexsplat")!;
        Assert.True(hexsplat.IsSplat);
        Assert.Equal(new byte[] { 7, 7, 7 }, hexsplat.ToFullBytes());
        Assert.Equal(new byte[] { 1, 0, 1 }, op.GetAttr<DenseElementsAttr>("bools")!.Data.ToArray());
        Assert.Equal(0, op.GetAttr<DenseElementsAttr>("empty")!.Data.Length);
        var scalar = op.GetAttr<DenseElementsAttr>("scalar")!;
        Assert.True(scalar.IsSplat); // one element is a splat, as in MLIR
        Assert.Equal(BitConverter.GetBytes(-3L), scalar.Data.ToArray());
        Assert.Equal(new byte[] { 1, 255 }, op.GetAttr<DenseElementsAttr>("neg")!.Data.ToArray());
    }

    [Fact]
    public void ResultGroupsAndUses()
    {
        var m = Mir.Parse("""
            module {
              func.func @main(%in: i32) -> (i32, i32, i32) {
                %a, %b:2 = "t.three"(%in) : (i32) -> (i32, i32, i32)
                %conv1.w-x = "t.name"(%b#1, %a) : (i32, i32) -> i32
                func.return %conv1.w-x, %b#0, %a : i32, i32, i32
              }
            }
            """);
        var ops = m.MainFunction.Body.Operations;
        var three = ops[0];
        Assert.Equal(3, three.Results.Count);
        Assert.Same(three.Results[2], ops[1].GetOperand(0));
        Assert.Same(three.Results[0], ops[1].GetOperand(1));
        Assert.Same(ops[1].Result, ops[2].GetOperand(0));
        Assert.Same(three.Results[1], ops[2].GetOperand(1));
        Assert.Equal(FuncOp.ReturnOpName, ops[2].Name);
    }

    [Theory]
    [InlineData("%a:2 = \"t.x\"() : () -> i32", "'t.x' names more results than its type lists (1)")]
    [InlineData("%a = \"t.x\"() : () -> (i32, i32)", "'t.x' names 1 results but its type lists 2")]
    [InlineData("\"t.x\"() : () -> i32", "'t.x' has 1 results but none is named")]
    [InlineData("%a = \"t.x\"(%in) : () -> i32", "'t.x' has 1 operands but its type lists 0")]
    [InlineData("%a:2 = \"t.x\"() : () -> (i32, i32)\n    %b = \"t.y\"(%a#2) : (i32) -> i32", "'%a' has 2 results; #2 does not exist")]
    [InlineData("%a = \"\"() : () -> i32", "an operation name cannot be empty")]
    [InlineData("%a:0 = \"t.x\"() : () -> ()", "'0' is not a valid result count")]
    public void BadResultsAndOperands(string ops, string message)
    {
        var text = $"module {{\n  func.func @main(%in: i32) {{\n    {ops}\n    return\n  }}\n}}\n";
        var e = Assert.Throws<MirException>(() => Mir.Parse(text));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Locations()
    {
        var m = Mir.Parse("""
            module {
              "t.a"() : () -> () loc("Conv_0")
              "t.b"() : () -> () loc(fused["Relu_1", "bn1"])
              "t.c"() : () -> () loc("model.prototxt":12:3)
              "t.d"() : () -> () loc(unknown)
              "t.e"() : () -> () loc(callsite("f" at "g.py":1:2))
              "t.f"() : () -> () loc("outer"("inner"))
              "t.g"() : () -> () loc(fused<"meta">["a", "b"])
              "t.h"() : () -> () loc(#loc2)
              "t.i"() : () -> () loc(#fused)
            }
            #loc1 = loc("x")
            #loc2 = loc(#loc1)
            #fused = loc(fused[#loc1, #loc2, "y"])
            """);
        var locs = m.Body.Operations.Select(o => o.Location).ToList();
        Assert.Equal(Location.Named("Conv_0"), locs[0]);
        Assert.Equal(new FusedLoc(ValueList.Of(Location.Named("Relu_1"), Location.Named("bn1")), null), locs[1]);
        Assert.Equal(new FileLineColLoc("model.prototxt", 12, 3), locs[2]);
        Assert.Equal(Location.Unknown, locs[3]);
        Assert.Equal(new CallSiteLoc(Location.Named("f"), new FileLineColLoc("g.py", 1, 2)), locs[4]);
        Assert.Equal(new NameLoc("outer", Location.Named("inner")), locs[5]);
        Assert.Equal(new FusedLoc(ValueList.Of(Location.Named("a"), Location.Named("b")), new StringAttr("meta")), locs[6]);
        Assert.Equal(Location.Named("x"), locs[7]);
        Assert.Equal(new FusedLoc(ValueList.Of(Location.Named("x"), Location.Named("y")), null), locs[8]); // repeats dropped, as FusedLoc::get does
    }

    /// <summary>What mlir-opt --mlir-print-debuginfo prints for these (FusedLoc::get with metadata).</summary>
    [Fact]
    public void FusedLocationsWithMetadataAreCanonicalizedAsMlirDoes()
    {
        var m = Mir.Parse("""
            module {
              "t.a"() : () -> () loc(fused<"m">["a", "a", unknown])
              "t.b"() : () -> () loc(fused<"m">[fused<"m">["a", "b"], "c"])
              "t.c"() : () -> () loc(fused<"m">[fused["a", "b"], "c"])
              "t.d"() : () -> () loc(fused<"m">[])
            }
            """);
        var meta = new StringAttr("m");
        var locs = m.Body.Operations.Select(o => o.Location).ToList();
        Assert.Equal(new FusedLoc(ValueList.Of(Location.Named("a")), meta), locs[0]);
        Assert.Equal(new FusedLoc(ValueList.Of(Location.Named("a"), Location.Named("b"), Location.Named("c")), meta), locs[1]);
        Assert.Equal(new FusedLoc(ValueList.Of(new FusedLoc(ValueList.Of(Location.Named("a"), Location.Named("b")), null), Location.Named("c")), meta), locs[2]);
        Assert.Equal(new FusedLoc(ValueList.Of(Location.Unknown), meta), locs[3]);
    }

    [Theory]
    [InlineData("#a = loc(#a)", "loc(#a)", "location alias '#a' refers to itself")]
    [InlineData("#a = loc(\"x\")\n#a = loc(\"y\")", "loc(#a)", "alias '#a' is defined twice")]
    [InlineData("#a = loc(\"x\")", "{v = #a}", "'#a' is a location, not an attribute")]
    public void BadAliases(string aliases, string use, string message)
    {
        var op = use.StartsWith("loc", StringComparison.Ordinal) ? $"\"t.a\"() : () -> () {use}" : $"\"t.a\"() {use} : () -> ()";
        var e = Assert.Throws<MirException>(() => Mir.Parse($"module {{\n  {op}\n}}\n{aliases}\n"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TypeAndAttributeAliases()
    {
        var m = Mir.Parse("""
            !t = tensor<2xf32>
            #three = 3 : i64
            module {
              func.func @main(%x: !t) -> !t {
                %0 = "onnx.Relu"(%x) {n = #three} : (!t) -> tensor<2xf32>
                return %0 : !t
              }
            }
            """);
        var relu = m.MainFunction.Body.Operations[0];
        Assert.Equal("tensor<2xf32>", relu.Result.Type.Text);
        Assert.Equal(IntegerAttr.I64(3), relu.GetAttr("n"));
        Assert.Contains("func.func @main(%arg0: tensor<2xf32>) -> tensor<2xf32>", Mir.Print(m));
    }

    [Fact]
    public void Strings()
    {
        var op = OnlyOp("\"t.x\"() {a = \"q\\\"b\\\\s\\n\\t\\41\\C3\\A9\", b = \"na\u00efve \u65e5\u672c\"} : () -> ()");
        Assert.Equal("q\"b\\s\n\tA\u00e9", op.GetString("a"));
        Assert.Equal("na\u00efve \u65e5\u672c", op.GetString("b"));
        var e = Assert.Throws<MirException>(() => OnlyOp("\"t.x\"() {a = \"bad \\q escape\"} : () -> ()"));
        Assert.Contains("unknown escape '\\q' in string", e.Message);
    }

    [Fact]
    public void FunctionsModulesAndTheirAttributes()
    {
        var m = Mir.Parse("""
            // a comment before the module
            module @"my model" attributes {mo.source = "tf"} {
              func.func private @decl() -> i32
              func.func @main(%x: tensor<2xf32> {mo.name = "x:0"} loc("x"), %y: i8) -> (tensor<2xf32> {mo.name = "out"}, i8) attributes {mo.note = "n"} {
                return %x, %y : tensor<2xf32>, i8 // trailing comment
              } loc("fn")
            } loc("mod")
            """);
        Assert.Equal("my model", m.Name);
        Assert.Equal("tf", m.Op.GetString("mo.source"));
        Assert.Equal(Location.Named("mod"), m.Op.Location);
        var decl = m.FindFunction("decl")!.Value;
        Assert.Empty(decl.Op.Regions[0].Blocks);
        Assert.Equal("private", decl.Op.GetString("sym_visibility"));
        Assert.Equal("() -> i32", decl.Type.Text);
        var main = m.MainFunction;
        Assert.Equal("x:0", main.ArgName(0));
        Assert.Null(main.ArgName(1));
        Assert.Equal("out", main.ResultName(0));
        Assert.Equal(Location.Named("x"), main.Arguments[0].Location);
        Assert.Equal(Location.Named("fn"), main.Op.Location);
        Assert.Equal("n", main.Op.GetString("mo.note"));
        Mir.AssertRoundTrip(m, out var text);
        Assert.Contains("func.func private @decl() -> i32\n", text);
        Assert.Contains("module @\"my model\" attributes {mo.source = \"tf\"} {", text);
    }

    [Fact]
    public void RegionsWithSeveralBlocks()
    {
        var m = Mir.Parse("""
            module {
              func.func @main(%x: i32) {
                "t.loop"(%x) ({
                ^bb0(%i: i32 loc("iv")):
                  "t.body"(%i, %x) : (i32, i32) -> ()
                ^exit(%j: f32):
                  "t.exit"(%j) : (f32) -> ()
                }, {
                  "t.other"() : () -> ()
                }) {attr = 1 : i32} : (i32) -> ()
                return
              }
            }
            """);
        var loop = m.MainFunction.Body.Operations[0];
        Assert.Equal(2, loop.Regions.Count);
        var blocks = loop.Regions[0].Blocks;
        Assert.Equal(2, blocks.Count);
        Assert.Equal(Location.Named("iv"), blocks[0].Arguments[0].Location);
        Assert.Same(blocks[0].Arguments[0], blocks[0].Operations[0].GetOperand(0));
        Assert.Same(m.MainFunction.Arguments[0], blocks[0].Operations[0].GetOperand(1));
        Assert.Equal("f32", blocks[1].Arguments[0].Type.Text);
        Assert.Equal("^exit", blocks[1].Label);
        Assert.Single(loop.Regions[1].Blocks);
        Assert.Same(loop, loop.Regions[0].Parent);
        Mir.AssertRoundTrip(m, out _);
    }

    [Fact]
    public void PropertiesAreReadAsAttributes()
    {
        var op = OnlyOp("\"t.x\"() <{p = 1 : i32}> {a = 2 : i32} : () -> ()");
        Assert.Equal(["a", "p"], op.Attributes.Select(a => a.Name));
    }

    [Fact]
    public void ForeignResourcesAreKeptAndWrittenBack()
    {
        var m = Mir.Parse("""
            module {
            }

            {-#
              dialect_resources: {
                builtin: {
                  w: "0x0400000001020304"
                },
                other: {
                  blob: "0x08000000AABB"
                }
              },
              external_resources: {
                mlir_reproducer: {
                  pipeline: "builtin.module(canonicalize)",
                  disable_threading: true
                }
              }
            #-}
            """);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, m.Resources["w"].Data.ToArray());
        Assert.Equal(3, m.Resources.Foreign.Count);
        Assert.Contains(m.Resources.Foreign, f => f is { Section: "dialect_resources", Group: "other", Key: "blob", Spelling: "\"0x08000000AABB\"" });
        Assert.Contains(m.Resources.Foreign, f => f is { Section: "external_resources", Key: "disable_threading", Spelling: "true" });
        Mir.AssertRoundTrip(m, out var text);
        Assert.Contains("    other: {\n      blob: \"0x08000000AABB\"\n    }\n", text);
        Assert.Contains("  external_resources: {\n    mlir_reproducer: {\n      pipeline: \"builtin.module(canonicalize)\",\n      disable_threading: true\n", text);
    }

    [Theory]
    [InlineData("w: \"0x040000\"", 6, "blob 'w' is missing its 4-byte alignment prefix")]
    [InlineData("w: \"0x03000000AA\"", 6, "blob 'w' starts with alignment 3, which is not a power of two")]
    [InlineData("w: \"0x04000000\",\n      w: \"0x04000000\"", 7, "blob 'w' appears twice in the trailer")]
    [InlineData("w: \"not hex\"", 6, "blob 'w' must be a hex string")]
    [InlineData("w: true", 6, "builtin resource 'w' must be a hex string")]
    public void BadTrailerEntries(string entries, int line, string message)
    {
        var e = Assert.Throws<MirException>(() => Mir.Parse($"module {{\n}}\n{{-#\n  dialect_resources: {{\n    builtin: {{\n      {entries}\n    }}\n  }}\n#-}}\n"));
        Assert.Contains(message, e.Message);
        Assert.Equal(line, e.Position!.Line);
    }

    [Fact]
    public void CrLfLineEndingsAndPositions()
    {
        var text = "module {\r\n  func.func @f() {\r\n    \"t.a\"() : () -> ()\r\n    %0 = \"t.b\"(%nope) : (i32) -> i32\r\n    return\r\n  }\r\n}\r\n";
        var e = Assert.Throws<MirException>(() => Mir.Parse(text, "crlf.mir"));
        Assert.Equal(4, e.Position!.Line);
        Assert.Equal(16, e.Position.Column);
        Assert.Equal("    %0 = \"t.b\"(%nope) : (i32) -> i32", e.SourceLine);
        Assert.Equal(3, Mir.Parse(text.Replace("(%nope) : (i32)", "() : ()")).MainFunction.Body.Operations.Count);
    }

    [Fact]
    public void UnsupportedSyntaxIsRefusedClearly()
    {
        var e = Assert.Throws<MirException>(() => OnlyOp("%0 = \"t.x\"() : () -> tensor<2xf32, \"enc\">"));
        Assert.Contains("tensor encodings are not supported", e.Message);
        e = Assert.Throws<MirException>(() => Mir.Parse("#map = affine_map<(d0) -> (d0)>\nmodule {\n}\n"));
        Assert.Equal(1, e.Position!.Line);
    }

    [Fact]
    public void ParseFileReportsAMissingFile()
    {
        var e = Assert.Throws<MirException>(() => Ir.Parsing.MirReader.ParseFile("/nonexistent/x.mir"));
        Assert.StartsWith("cannot read '/nonexistent/x.mir'", e.Message);
    }
}
