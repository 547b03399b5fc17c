using System.Runtime.InteropServices;
using Mopt.Ir;

namespace Mopt.Tests;

/// <summary>The in-memory IR as C# code uses it: builder, use lists, function views.</summary>
public sealed class IrApiTests
{
    private static readonly TensorType T4 = new(ElementType.F32, [4]);
    private static readonly TensorType T2x2 = new(ElementType.F32, [2, 2]);

    /// <summary>main(%x: tensor&lt;4xf32&gt;) = Relu(Add(%x, w)) with w a resource blob.</summary>
    private static (MirModule Module, FuncOp Main, Value Weight, Operation Add, Operation Relu) BuildSmall()
    {
        var m = MirModule.Create("built");
        m.Op.SetAttr("mo.source", new StringAttr("onnx"));
        var main = m.AddFunction("main", [T4], [T4]);
        var b = OpBuilder.AtEnd(main.Body);
        var w = b.ResourceConstant(m, "w", T4, MemoryMarshal.AsBytes<float>([1f, 2f, 3f, 4f]).ToArray(), Location.Named("w"));
        var add = b.Create("onnx.Add", [main.Arguments[0], w], [T4], null, Location.Named("Add_0"));
        var relu = b.Create("onnx.Relu", [add.Result], [T4], null, Location.Named("Relu_1"));
        b.Return([relu.Result]);
        return (m, main, w, add, relu);
    }

    /// <summary>ReplaceAttributes (an op turned into another in place): the new set, sorted whatever its order, plus only what the predicate keeps.</summary>
    [Fact]
    public void ReplacedAttributesAreTheNewOnesSortedAndTheKeptOnes()
    {
        var op = new Operation("caffe.Convolution", [], [T4],
            [new("num_output", IntegerAttr.I64(4)), new("mo.outputs", ArrayAttr.Of([new StringAttr("conv")])), new("kernel_size", ArrayAttr.OfInts([3]))]);
        op.ReplaceAttributes([new("strides", ArrayAttr.OfInts([1])), new("group", IntegerAttr.I64(1)), new("pads", ArrayAttr.OfInts([0, 0]))],
            keep: name => name.StartsWith("mo.", StringComparison.Ordinal));
        Assert.Equal(["group", "mo.outputs", "pads", "strides"], op.Attributes.Select(a => a.Name));
        Assert.Equal(1, op.GetInt("group"));
        Assert.Null(op.GetAttr("num_output"));
        op.ReplaceAttributes([new("axis", IntegerAttr.I64(1))]);
        Assert.Equal(["axis"], op.Attributes.Select(a => a.Name));
    }

    /// <summary>An op's own attributes given back to it (its live view) are read before any is dropped: all of them stay.</summary>
    [Fact]
    public void AttributesReplacedByTheirOwnViewStay()
    {
        var op = new Operation("test.Op", [], [T4], [new("b", IntegerAttr.I64(2)), new("a", IntegerAttr.I64(1))]);
        op.ReplaceAttributes(op.Attributes);
        Assert.Equal(["a", "b"], op.Attributes.Select(a => a.Name));
        op.ReplaceAttributes(op.Attributes, keep: _ => false);
        Assert.Equal([1L, 2L], op.AttributeSpan.ToArray().Select(a => ((IntegerAttr)a.Value).Value));
    }

    /// <summary>GetAttr finds every attribute and no other, on a few (scanned) and on many (binary search).</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(40)]
    public void GetAttrFindsEachAttributeAndNoOther(int count)
    {
        var op = new Operation("test.Op", [], [T4], Enumerable.Range(0, count).Select(i => new NamedAttr($"a{i * 7 % count}_{i}", IntegerAttr.I64(i))).ToList());
        for (int i = 0; i < count; i++) Assert.Equal(i, op.GetInt($"a{i * 7 % count}_{i}"));
        Assert.Null(op.GetAttr("a0"));
        Assert.Null(op.GetAttr($"a{count}_{count}"));
        Assert.Null(op.GetAttr(""));
    }

    [Fact]
    public void AClonePrintsTheSameAndChangesApart()
    {
        var (m, main, w, add, relu) = BuildSmall();
        var map = new Dictionary<Value, Value>();
        var copy = m.Clone(map);
        string text = Mopt.Ir.Printing.MirPrinter.PrintToString(m);
        Assert.Equal(text, Mopt.Ir.Printing.MirPrinter.PrintToString(copy));
        Assert.NotSame(add.Result, map[add.Result]);
        Assert.Same(copy.MainFunction.Arguments[0], map[main.Arguments[0]]);

        var copiedRelu = ((OpResult)map[relu.Result]).Owner;
        copiedRelu.SetAttr("mo.note", new StringAttr("changed"));
        Assert.Equal(text, Mopt.Ir.Printing.MirPrinter.PrintToString(m));
        Assert.NotEqual(text, Mopt.Ir.Printing.MirPrinter.PrintToString(copy));
        Assert.Same(((OpResult)map[w]).Owner.Parent, copy.MainFunction.Body);
    }

    [Fact]
    public void BuiltModulePrintsAsExpectedAndReparses()
    {
        var (m, _, _, _, _) = BuildSmall();
        Verifier.Verify(m);
        var reparsed = Mir.AssertRoundTrip(m, out var text);
        Assert.Equal("""
            module @built attributes {mo.source = "onnx"} {
              func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
                %0 = "onnx.Constant"() {value = dense_resource<w> : tensor<4xf32>} : () -> tensor<4xf32> loc("w")
                %1 = "onnx.Add"(%arg0, %0) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> loc("Add_0")
                %2 = "onnx.Relu"(%1) : (tensor<4xf32>) -> tensor<4xf32> loc("Relu_1")
                return %2 : tensor<4xf32>
              }
            }

            {-#
              dialect_resources: {
                builtin: {
                  w: "0x040000000000803F000000400000404000008040"
                }
              }
            #-}


            """, text);
        IrAssert.Equivalent(m, reparsed);
        Assert.Equal("built", reparsed.Name);
        Assert.Equal("main", reparsed.MainFunction.Name);
    }

    /// <summary>ToString is what a debugger, a log line or a failed assertion shows.</summary>
    [Fact]
    public void EveryAttributeHasAToString()
    {
        Assert.Contains("f32", DenseArrayAttr.OfFloats(ElementType.F32, [0.5]).ToString());
        Assert.Contains("i64", DenseArrayAttr.OfInts(ElementType.I64, [1L]).ToString());
        Assert.NotEmpty(ArrayAttr.Of([DenseArrayAttr.OfFloats(ElementType.F64, [1.0])]).ToString());
    }

    /// <summary>A size is known only for a static shape; a dynamic dim makes it unknown even where the other dims' product would overflow.</summary>
    [Fact]
    public void ATensorsSizeIsKnownOnlyForAStaticShape()
    {
        Assert.Equal(24, new TensorType(ElementType.F32, [2, 3]).ByteSize);
        Assert.Equal(1, new TensorType(ElementType.F32, []).ElementCount);
        Assert.Null(new TensorType(ElementType.F32, [2, TensorType.Dynamic]).ElementCount);
        Assert.Null(new TensorType(ElementType.F32, [long.MaxValue, long.MaxValue, TensorType.Dynamic]).ElementCount);
        Assert.Null(TensorType.Unranked(ElementType.F32).ByteSize);
        Assert.False(new TensorType(ElementType.F32, [TensorType.Dynamic, 2]).HasStaticShape);
        Assert.True(new TensorType(ElementType.F32, [0, 2]).HasStaticShape);
        Assert.Throws<OverflowException>(() => new TensorType(ElementType.F32, [long.MaxValue, 2]).ElementCount);
    }

    [Fact]
    public void ResourceConstantKeysAreUniqueAndBare()
    {
        var m = MirModule.Create();
        var f = m.AddFunction("main", [], []);
        var b = OpBuilder.AtEnd(f.Body);
        var type = new TensorType(ElementType.I8, [1]);
        b.ResourceConstant(m, "conv/weight:0", type, new byte[] { 1 });
        b.ResourceConstant(m, "conv/weight:0", type, new byte[] { 2 });
        b.ResourceConstant(m, "1x", type, new byte[] { 3 });
        b.ResourceConstant(m, "", type, new byte[] { 4 });
        b.Return([]);
        Assert.Equal(["conv_weight_0", "conv_weight_0_1", "_1x", "blob"], m.Resources.Blobs.Select(kv => kv.Key));
        Assert.Equal(2, m.Resources["conv_weight_0_1"].Data.Span[0]);
        Assert.Equal(4u, m.Resources["blob"].Alignment);
        var reparsed = Mir.AssertRoundTrip(m, out _);
        Assert.Equal(3, reparsed.Resources["_1x"].Data.Span[0]);
    }

    [Fact]
    public void BuilderInsertsAtItsInsertionPoint()
    {
        var (m, main, _, add, relu) = BuildSmall();
        var before = OpBuilder.Before(relu);
        var neg = before.Create("onnx.Neg", [add.Result], [T4]);
        var after = OpBuilder.After(add);
        var abs = after.Create("onnx.Abs", [add.Result], [T4]);
        Assert.Equal(["onnx.Constant", "onnx.Add", "onnx.Abs", "onnx.Neg", "onnx.Relu", "func.return"], main.Body.Operations.Select(o => o.Name));
        Assert.Same(main.Body, neg.Parent);
        // A second Create on the same builder goes after the first one.
        var abs2 = after.Create("onnx.Abs", [abs.Result], [T4]);
        Assert.Equal(main.Body.IndexOf(abs) + 1, main.Body.IndexOf(abs2));
        Verifier.Verify(m);
    }

    [Fact]
    public void ReplaceAllUsesWithMovesEveryUse()
    {
        var (m, main, w, add, relu) = BuildSmall();
        var x = main.Arguments[0];
        Assert.Single(x.Uses);
        Assert.Single(add.Result.Uses);

        add.Result.ReplaceAllUsesWith(x);
        Assert.False(add.Result.HasUses);
        Assert.Equal(2, x.Uses.Count);
        Assert.Same(x, relu.GetOperand(0));
        Assert.Contains(relu, x.Users);

        add.Erase();
        Assert.Null(add.Parent);
        Assert.Empty(w.Uses);
        Verifier.Verify(m);
        Assert.DoesNotContain("onnx.Add", Mir.Print(m));
    }

    [Fact]
    public void SetOperandUpdatesBothUseLists()
    {
        var (m, main, w, add, _) = BuildSmall();
        var x = main.Arguments[0];
        add.SetOperand(0, w);
        Assert.Empty(x.Uses);
        Assert.Equal(2, w.Uses.Count);
        Assert.All(w.Uses, u => Assert.Same(add, u.Owner));
        Assert.Equal([0, 1], w.Uses.Select(u => u.Index).Order());
        Verifier.Verify(m);

        add.RemoveOperand(0);
        Assert.Single(w.Uses);
        Assert.Equal(0, add.OperandSlots[0].Index);
        Assert.Equal(1, add.OperandCount);
    }

    [Fact]
    public void EraseRefusesAnOperationWhoseResultsAreUsed()
    {
        var (m, main, _, add, _) = BuildSmall();
        var e = Assert.Throws<InvalidOperationException>(() => add.Erase());
        Assert.Contains("onnx.Add", e.Message);
        Assert.Contains("still used", e.Message);
        Assert.Same(main.Body, add.Parent);
        Assert.Equal(4, main.Body.Operations.Count);
        Assert.Equal(2, add.OperandCount);
        Verifier.Verify(m);
    }

    [Fact]
    public void EraseAllRemovesADeadChainInOneSweep()
    {
        var (m, main, w, add, relu) = BuildSmall();
        // Make Add and Relu dead: return the argument instead.
        main.Return!.SetOperand(0, main.Arguments[0]);
        int removed = main.Body.EraseAll(op => op == add || op == relu);
        Assert.Equal(2, removed);
        Assert.Null(add.Parent);
        Assert.Null(relu.Parent);
        Assert.Empty(w.Uses);
        Assert.Single(main.Arguments[0].Uses);
        Verifier.Verify(m);
    }

    [Fact]
    public void EraseAllRefusesAnOperationStillUsedBySurvivors()
    {
        var (_, main, _, add, _) = BuildSmall();
        Assert.Throws<InvalidOperationException>(() => main.Body.EraseAll(op => op == add));
        Assert.Same(main.Body, add.Parent);
    }

    [Fact]
    public void BlockArgumentsAndMultiResultOperations()
    {
        var m = MirModule.Create();
        var f = m.AddFunction("main", [T4], []);
        var b = OpBuilder.AtEnd(f.Body);
        var split = b.Create("onnx.Split", [f.Arguments[0]], [new TensorType(ElementType.F32, [2]), new TensorType(ElementType.F32, [2])]);
        Assert.Throws<InvalidOperationException>(() => split.Result);
        Assert.Equal(1, split.Results[1].Index);
        var loop = b.Create("tst.loop", [], []);
        var body = loop.AddRegion().AddBlock();
        var arg = body.AddArgument(ElementType.I32, Location.Named("iv"));
        OpBuilder.AtEnd(body).Create("tst.use", [arg, split.Results[1]], []);
        b.Return([split.Results[1], split.Results[0]]);
        f.UpdateType();

        Assert.Throws<InvalidOperationException>(() => body.RemoveArgument(0));
        Verifier.Verify(m);
        var reparsed = Mir.AssertRoundTrip(m, out var text);
        Assert.Contains("%0:2 = \"onnx.Split\"(%arg0)", text);
        Assert.Contains("^bb0(%arg1: i32 loc(\"iv\")):", text);
        Assert.Contains("\"tst.use\"(%arg1, %0#1)", text);
        Assert.Contains("return %0#1, %0#0 : tensor<2xf32>, tensor<2xf32>", text);
        IrAssert.Equivalent(m, reparsed);
        Assert.Equal(["func.func", "onnx.Split", "tst.loop", "tst.use", "func.return"], reparsed.MainFunction.Op.Walk().Select(o => o.Name));
    }

    [Fact]
    public void FuncOpArgumentAndResultAttributes()
    {
        var m = MirModule.Create();
        var f = m.AddFunction("main", [T4, T2x2], [T4]);
        f.SetArgAttrs(1, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr("image"))]));
        f.SetResultAttrs(0, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr("y")), new NamedAttr("a", UnitAttr.Instance)]));
        OpBuilder.AtEnd(f.Body).Return([f.Arguments[0]]);

        Assert.Null(f.ArgName(0));
        Assert.Equal("image", f.ArgName(1));
        Assert.Equal("y", f.ResultName(0));
        Assert.Empty(f.ArgAttrs(0).Entries);
        Assert.Empty(f.ArgAttrs(7).Entries);

        var reparsed = Mir.AssertRoundTrip(m, out var text);
        Assert.Contains("func.func @main(%arg0: tensor<4xf32>, %arg1: tensor<2x2xf32> {mo.name = \"image\"}) -> (tensor<4xf32> {a, mo.name = \"y\"})", text);
        var rf = reparsed.MainFunction;
        Assert.Equal("image", rf.ArgName(1));
        Assert.Equal("y", rf.ResultName(0));

        // Clearing every entry drops the attribute altogether.
        f.SetArgAttrs(1, DictionaryAttr.Empty);
        Assert.Null(f.Op.GetAttr("arg_attrs"));
        f.SetArgAttrs(0, DictionaryAttr.From([new NamedAttr("k", IntegerAttr.I64(1))]));
        f.SetArgAttrs(1, DictionaryAttr.From([new NamedAttr("k", IntegerAttr.I64(2))]));
        f.RemoveArgAttrsAt(0);
        Assert.Equal(IntegerAttr.I64(2), f.ArgAttrs(0).Get("k"));
    }

    [Fact]
    public void UpdateTypeFollowsArgumentsAndReturn()
    {
        var (m, main, _, add, relu) = BuildSmall();
        var f16 = new TensorType(ElementType.F16, [4]);
        var cast = OpBuilder.Before(main.Return!).Create("onnx.Cast", [relu.Result], [f16], [new NamedAttr("to", IntegerAttr.I64(10))]);
        main.Return!.SetOperand(0, cast.Result);
        var e = Assert.Throws<MirException>(() => Verifier.Verify(m));
        Assert.Contains("returns tensor<4xf16> as result #0 but @main declares tensor<4xf32>", e.Message);

        main.UpdateType();
        Assert.Equal("(tensor<4xf32>) -> tensor<4xf16>", main.Type.Text);
        Verifier.Verify(m);

        main.Body.AddArgument(T2x2);
        main.UpdateType();
        Assert.Equal("(tensor<4xf32>, tensor<2x2xf32>) -> tensor<4xf16>", main.Type.Text);
        Mir.AssertRoundTrip(m, out var text);
        Assert.Contains("func.func @main(%arg0: tensor<4xf32>, %arg1: tensor<2x2xf32>) -> tensor<4xf16>", text);
        Assert.Same(add, main.Body.Operations[1]);
    }

    [Fact]
    public void ModuleFunctionLookup()
    {
        var m = MirModule.Create();
        Assert.Throws<InvalidOperationException>(() => m.MainFunction);
        var only = m.AddFunction("forward", [], []);
        Assert.Equal("forward", m.MainFunction.Name);
        m.AddFunction("main", [], []);
        Assert.Equal("main", m.MainFunction.Name);
        Assert.Equal(only.Op, m.FindFunction("forward")!.Value.Op);
        Assert.Null(m.FindFunction("missing"));
        Assert.Throws<ArgumentException>(() => new MirModule(new Operation("builtin.module", [], []), new ResourceTable()));
        m.Name = "x";
        Assert.Equal("x", m.Op.GetString("sym_name"));
        m.Name = null;
        Assert.Null(m.Op.GetAttr("sym_name"));
    }

    [Fact]
    public void OperationAttributesAreSortedAndTyped()
    {
        var op = new Operation("onnx.Conv", [], [], [new NamedAttr("strides", ArrayAttr.OfInts([1, 1])), new NamedAttr("group", IntegerAttr.I64(2)),
            new NamedAttr("auto_pad", new StringAttr("NOTSET")), new NamedAttr("epsilon", FloatAttr.F32(1e-5f))]);
        Assert.Equal(["auto_pad", "epsilon", "group", "strides"], op.Attributes.Select(a => a.Name));
        Assert.Equal(2, op.GetInt("group"));
        Assert.Equal(2.0, op.GetFloat("group"));
        Assert.Equal((double)1e-5f, op.GetFloat("epsilon"));
        Assert.Equal("NOTSET", op.GetString("auto_pad"));
        Assert.Null(op.GetInt("auto_pad"));
        Assert.True(op.RemoveAttr("group"));
        Assert.False(op.RemoveAttr("group"));
        Assert.Equal("onnx", op.Dialect);
        Assert.Equal("Conv", op.OpType);
        Assert.Equal("", new Operation("noDialect", [], []).Dialect);
    }

    [Fact]
    public void TypesCompareByText()
    {
        Assert.Equal(new TensorType(ElementType.F32, [1, 3]), new TensorType(ElementType.F32, [1, 3]));
        Assert.NotEqual(new TensorType(ElementType.F32, [1, 3]), new TensorType(ElementType.F16, [1, 3]));
        Assert.Equal("tensor<?x3xbf16>", new TensorType(ElementType.BF16, [TensorType.Dynamic, 3]).Text);
        Assert.Equal("tensor<*xi8>", TensorType.Unranked(ElementType.I8).Text);
        Assert.Equal("tensor<ui16>", new TensorType(ElementType.UI16, []).Text);
        Assert.Equal(12L, new TensorType(ElementType.I1, [3, 4]).ByteSize);
        Assert.Equal(24L, new TensorType(ElementType.F16, [3, 4]).ByteSize);
        Assert.Null(new TensorType(ElementType.F32, [TensorType.Dynamic]).ElementCount);
        Assert.Throws<InvalidOperationException>(() => TensorType.Unranked(ElementType.F32).Rank);
        Assert.Equal("(tensor<2xf32>, i32) -> (f32, i1)", new FunctionType([new TensorType(ElementType.F32, [2]), ElementType.I32], [ElementType.F32, ElementType.I1]).Text);
        Assert.Equal("() -> ((i32) -> i32)", new FunctionType([], [new FunctionType([ElementType.I32], [ElementType.I32])]).Text);
        Assert.Equal(8, ElementType.Index.ByteSize);
        Assert.Null(ElementType.TryGet("f8"));
    }

    [Fact]
    public void AttributesCompareByValue()
    {
        Assert.Equal(ArrayAttr.OfInts([1, 2]), ArrayAttr.OfInts([1, 2]));
        Assert.NotEqual(ArrayAttr.OfInts([1, 2]), ArrayAttr.OfInts([2, 1]));
        Assert.Equal(DictionaryAttr.From([new NamedAttr("b", UnitAttr.Instance), new NamedAttr("a", BoolAttr.True)]),
            DictionaryAttr.From([new NamedAttr("a", BoolAttr.True), new NamedAttr("b", UnitAttr.Instance)]));
        var t = new TensorType(ElementType.F32, [2]);
        Assert.Equal(DenseElementsAttr.FromFloats(t, [1f, 2f]), DenseElementsAttr.FromFloats(t, [1f, 2f]));
        Assert.NotEqual(DenseElementsAttr.FromFloats(t, [1f, 2f]), DenseElementsAttr.FromFloats(t, [1f, 3f]));
        var splat = DenseElementsAttr.FromFloats(new TensorType(ElementType.F32, [3]), [0.5f]);
        Assert.True(splat.IsSplat);
        Assert.Equal(MemoryMarshal.AsBytes<float>([0.5f, 0.5f, 0.5f]).ToArray(), splat.ToFullBytes());
        Assert.Equal(new SymbolRefAttr("a"), new SymbolRefAttr("a", ValueList<string>.Empty));
    }

    [Fact]
    public void LocationFuseFlattensAndDropsUnknownsAndRepeats()
    {
        var a = Location.Named("a");
        var b = Location.Named("b");
        var c = new FileLineColLoc("m.prototxt", 3, 4);
        Assert.Equal(Location.Unknown, Location.Fuse());
        Assert.Equal(a, Location.Fuse(a, Location.Unknown, a));
        var ab = Location.Fuse(a, b);
        Assert.Equal(new FusedLoc(ValueList.Of<Location>(a, b), null), ab);
        Assert.Equal(new FusedLoc(ValueList.Of<Location>(a, b, c), null), Location.Fuse(ab, Location.Unknown, b, c));
        Assert.Equal("a", Location.Fuse(Location.Unknown, ab).FirstName);
        Assert.Null(c.FirstName);
        Assert.Equal("x", new CallSiteLoc(Location.Named("x"), c).FirstName);
    }

    [Theory]
    [InlineData("f16", 65504.0)]
    [InlineData("f16", -0.0)]
    [InlineData("bf16", 3.140625)]
    [InlineData("f32", 0.1f)]
    [InlineData("f64", 0.1)]
    public void ElementCodecWritesAndReadsFloats(string type, double value)
    {
        var t = ElementType.TryGet(type)!;
        var buf = new byte[t.ByteSize];
        ElementCodec.WriteFloat(buf, t, value);
        double back = ElementCodec.ReadFloat(buf, t);
        Assert.Equal(BitConverter.DoubleToInt64Bits(ElementCodec.RoundTo(t, value)), BitConverter.DoubleToInt64Bits(back));
        Assert.Equal(ElementCodec.BitsOf(t, value), ElementCodec.BitsOf(t, ElementCodec.FloatFromBits(t, ElementCodec.BitsOf(t, value))));
    }

    [Fact]
    public void ElementCodecIntegers()
    {
        var buf = new byte[8];
        ElementCodec.WriteInteger(buf, ElementType.I8, -1);
        Assert.Equal(-1, ElementCodec.ReadInteger(buf, ElementType.I8));
        Assert.Equal(255, ElementCodec.ReadInteger(buf, ElementType.UI8));
        ElementCodec.WriteInteger(buf, ElementType.UI32, 0xFFFFFFFF);
        Assert.Equal(0xFFFFFFFFL, ElementCodec.ReadInteger(buf, ElementType.UI32));
        Assert.True(ElementCodec.FitsInteger(ElementType.I8, 255, false));
        Assert.False(ElementCodec.FitsInteger(ElementType.I8, 256, false));
        Assert.True(ElementCodec.FitsInteger(ElementType.I8, 128, true));
        Assert.False(ElementCodec.FitsInteger(ElementType.I8, 129, true));
        Assert.False(ElementCodec.FitsInteger(ElementType.UI8, 1, true));
        Assert.False(ElementCodec.FitsInteger(ElementType.I1, 2, false));
        Assert.Equal(0x3F80, ElementCodec.ToBFloat16(1.0f));
        Assert.Equal(0x3F81, ElementCodec.ToBFloat16(BitConverter.Int32BitsToSingle(0x3F80C000))); // ties to even, up
        Assert.Equal(0x3F80, ElementCodec.ToBFloat16(BitConverter.Int32BitsToSingle(0x3F808000))); // ties to even, down
    }
}
