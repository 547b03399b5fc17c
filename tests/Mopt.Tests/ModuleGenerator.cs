using System.Buffers.Binary;
using Mopt.Ir;

namespace Mopt.Tests;

/// <summary>
/// Builds random, valid modules from a seed: random shapes and element types, every attribute kind, dense
/// constants of every element type (f16/bf16/NaN/inf/-0.0 included), dense_resource blobs, multi-result
/// operations, nested regions with several blocks, and every kind of location.
/// The IR is canonical, as MLIR would hold it, so that a module comes back from text structurally equal:
/// dense data through <see cref="DenseElementsAttr.Create"/> (all-equal data is a splat), signless integers
/// sign-extended, floats through <see cref="FloatAttr.FromBits"/> (NaN payloads kept), fused locations through
/// <see cref="Location.Fuse"/>.
/// </summary>
public sealed class ModuleGenerator
{
    /// <summary>
    /// Only produce what mlir-opt prints exactly as mopt does. What mopt still prints differently:
    /// <list type="bullet">
    /// <item>an i1 dense constant over 100 elements: mlir-opt prints bit-packed hex, mopt a list (intended, in
    /// docs/ir-text.md), so i1 tensors stay at 100 elements or fewer;</item>
    /// <item>an empty resource blob: mlir-opt prints its alignment as 0 (<c>"0x00000000"</c>), mopt the one it holds
    /// (BUG, MlirOptCompatTests.EmptyResourceBlobPrintsAsMlirOptPrintsIt), so empty blobs get alignment 0;</item>
    /// <item>the order of the blobs when an operation with regions has a <c>dense_resource</c> attribute: mlir-opt
    /// lists the blobs in text order (the regions first), mopt takes the operation's attributes first (BUG,
    /// MlirOptCompatTests.ResourceBlobsPrintInTextOrder), so such operations get no dense_resource attribute.</item>
    /// </list>
    /// </summary>
    public bool MlirSafe { get; init; }

    private readonly Random _rng;
    private MirModule _module = null!;
    private int _symbolCounter;

    public ModuleGenerator(int seed) => _rng = new Random(seed);

    private static readonly ElementType[] TensorElements =
    [
        ElementType.F16, ElementType.BF16, ElementType.F32, ElementType.F64, ElementType.I1, ElementType.I8, ElementType.I16,
        ElementType.I32, ElementType.I64, ElementType.UI8, ElementType.UI16, ElementType.UI32, ElementType.UI64,
    ];

    private static readonly ElementType[] FloatTypes = [ElementType.F16, ElementType.BF16, ElementType.F32, ElementType.F64];

    private static readonly ElementType[] IntAttrTypes =
    [
        ElementType.I8, ElementType.I16, ElementType.I32, ElementType.I64, ElementType.UI8, ElementType.UI16,
        ElementType.UI32, ElementType.UI64, ElementType.Index,
    ];

    private static readonly string[] OpNames =
    [
        "onnx.Add", "onnx.Relu", "onnx.Conv", "onnx.Split", "tst.op", "tst.multi", "mo.thing", "tf.Foo", "caffe.Layer",
        "paddle.op", "a.b.c",
    ];

    private static readonly string[] AttrNames =
    [
        "axis", "pads", "strides", "value", "epsilon", "mode", "mo.name", "flag", "nested", "kernel_shape", "data_format",
        "a", "b", "z9", "_private", "with.dots", "sym", "ty",
    ];

    private static readonly string[] Strings =
    [
        "", "NCHW", "conv1/weight:0", "quote\"inside", "back\\slash", "tab\there", "new\nline", "naïve", "日本語", "emoji 🙂",
        "\u0001ctl", "{braces} [brackets] (parens)", "#not-an-alias", "%not-a-value", "loc(\"x\")", "0x1234",
    ];

    private static readonly string[] LocNames =
    [
        "Conv_0", "Relu_1", "bn1", "conv1.weight", "node/with/slashes", "quote\"d", "ünïcode", "Gemm_9", "x", "Softmax_10",
    ];

    public MirModule Generate()
    {
        _module = MirModule.Create(Chance(0.5) ? Pick("m", "tiny", "small_cnn", "with space", "n.1") : null);
        _symbolCounter = 0;
        if (Chance(0.6))
        {
            _module.Op.SetAttr("mo.source", new StringAttr(Pick("onnx", "tf", "caffe", "paddle")));
            if (Chance(0.5)) _module.Op.SetAttr("onnx.opset", IntegerAttr.I64(_rng.Next(7, 22)));
        }
        if (Chance(0.2)) _module.Op.Location = RandomLocation();

        int functions = _rng.Next(1, 4);
        for (int f = 0; f < functions; f++)
        {
            if (Chance(0.15)) GenerateTopLevelOp();
            GenerateFunction(f == 0 ? "main" : Pick("f" + f, "helper_" + f, "fn.with.dots" + f));
        }
        return _module;
    }

    private void GenerateTopLevelOp()
    {
        var op = new Operation("tst.global", [], [], [new NamedAttr("sym_name", new StringAttr("g" + _symbolCounter++)),
            new NamedAttr("value", RandomAttr(1))], RandomLocation());
        _module.Body.Append(op);
    }

    private void GenerateFunction(string name)
    {
        int argCount = _rng.Next(0, 4);
        var argTypes = Enumerable.Range(0, argCount).Select(_ => RandomValueType()).ToArray();
        var func = _module.AddFunction(name, argTypes, []);
        for (int i = 0; i < argCount; i++)
        {
            if (Chance(0.5)) func.SetArgAttrs(i, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr(Pick(LocNames)))]));
            if (Chance(0.3)) func.Arguments[i].Location = RandomLocation();
        }
        if (Chance(0.2)) func.Op.SetAttr("mo.extra", RandomAttr(1));
        if (Chance(0.3)) func.Op.Location = RandomLocation();

        var visible = new List<Value>(func.Arguments);
        var builder = OpBuilder.AtEnd(func.Body);
        int ops = _rng.Next(1, 12);
        for (int i = 0; i < ops; i++) GenerateOp(builder, visible, depth: 0);

        var returned = visible.Where(_ => Chance(0.4)).Take(3).ToList();
        builder.Return(returned, Chance(0.3) ? RandomLocation() : null);
        func.UpdateType();
        for (int i = 0; i < returned.Count; i++)
            if (Chance(0.4)) func.SetResultAttrs(i, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr(Pick(LocNames)))]));
    }

    private void GenerateOp(OpBuilder builder, List<Value> visible, int depth)
    {
        double kind = _rng.NextDouble();
        if (kind < 0.2)
        {
            // A constant: dense (any element type) or a resource blob.
            Value c;
            if (Chance(0.6))
            {
                var type = RandomStaticTensor();
                c = builder.Constant(RandomDense(type), type, RandomLocation());
            }
            else
            {
                var type = RandomResourceType();
                c = builder.Constant(RandomResource(type), type, RandomLocation());
            }
            visible.Add(c);
            return;
        }

        var operands = visible.Count == 0 ? [] : Enumerable.Range(0, _rng.Next(0, 4)).Select(_ => visible[_rng.Next(visible.Count)]).ToList();
        int resultCount = _rng.Next(0, 10) switch { 0 => 0, < 7 => 1, < 9 => 2, _ => 3 };
        var resultTypes = Enumerable.Range(0, resultCount).Select(_ => RandomValueType()).ToList();
        var attrs = Enumerable.Range(0, _rng.Next(0, 5)).Select(_ => new NamedAttr(Pick(AttrNames), RandomAttr(0)))
            .GroupBy(a => a.Name).Select(g => g.First()).ToList();
        bool withRegions = depth < 2 && Chance(0.15);
        if (MlirSafe && withRegions) attrs.RemoveAll(a => HasResource(a.Value));
        var op = builder.Create(Pick(OpNames), operands, resultTypes, attrs, RandomLocation());

        if (withRegions)
        {
            int regions = _rng.Next(1, 3);
            for (int r = 0; r < regions; r++)
            {
                var region = op.AddRegion();
                int blocks = _rng.Next(1, 3);
                for (int b = 0; b < blocks; b++)
                {
                    var block = region.AddBlock();
                    // Every value visible outside the region is visible inside; each block adds its own.
                    var inner = new List<Value>(visible);
                    int args = b == 0 ? _rng.Next(0, 3) : _rng.Next(1, 3);
                    for (int a = 0; a < args; a++) inner.Add(block.AddArgument(RandomValueType(), Chance(0.3) ? RandomLocation() : null));
                    var nested = OpBuilder.AtEnd(block);
                    // Blocks are never empty: MLIR refuses an empty block in a region with several blocks.
                    int count = _rng.Next(1, 4);
                    for (int k = 0; k < count; k++) GenerateOp(nested, inner, depth + 1);
                }
            }
        }
        visible.AddRange(op.Results);
    }

    // ------------------------------------------------------------------ types

    private MirType RandomValueType()
    {
        double p = _rng.NextDouble();
        if (p < 0.70) return RandomTensor();
        if (p < 0.85) return Pick<MirType>(ElementType.I32, ElementType.F32, ElementType.Index, ElementType.I1, ElementType.None, ElementType.BF16);
        if (p < 0.95) return Pick<MirType>(new OpaqueType("!tst.handle"), new OpaqueType("!onnx.Seq<tensor<2xf32>>"), new OpaqueType("!tf.resource"));
        return new FunctionType([RandomTensor()], Chance(0.5) ? [ElementType.I32] : [ElementType.I32, RandomTensor()]);
    }

    private TensorType RandomTensor()
    {
        var elem = Pick(TensorElements);
        double p = _rng.NextDouble();
        if (p < 0.1) return TensorType.Unranked(elem);
        if (p < 0.2) return new TensorType(elem, [TensorType.Dynamic, _rng.Next(1, 5)]);
        return RandomStaticTensor(elem);
    }

    private TensorType RandomResourceType() => RandomStaticTensor();

    private TensorType RandomStaticTensor(ElementType? elem = null)
    {
        elem ??= Pick(TensorElements);
        int rank = _rng.Next(0, 5);
        var shape = new long[rank];
        for (int i = 0; i < rank; i++) shape[i] = _rng.Next(0, 20) switch { 0 => 0, < 14 => _rng.Next(1, 4), _ => _rng.Next(4, 9) };
        // Sometimes a large one, so that dense constants print as hex (over 100 elements).
        if (rank > 0 && Chance(0.1)) shape[0] = _rng.Next(40, 130);
        var type = new TensorType(elem, shape);
        if (MlirSafe && elem.IsBool && type.ElementCount > 100) return new TensorType(elem, [_rng.Next(1, 100)]);
        return type;
    }

    // ------------------------------------------------------------------ attributes

    private Attr RandomAttr(int depth)
    {
        int pick = _rng.Next(depth < 2 ? 14 : 10);
        switch (pick)
        {
            case 0:
            {
                var t = Pick(IntAttrTypes);
                return new IntegerAttr(RandomInteger(t), t);
            }
            case 1:
            {
                var t = Pick(FloatTypes);
                return FloatAttr.FromBits(t, RandomFloatBits(t));
            }
            case 2: return Chance(0.5) ? BoolAttr.True : BoolAttr.False;
            case 3: return new StringAttr(Pick(Strings));
            case 4: return UnitAttr.Instance;
            case 5: return RandomDenseArray();
            case 6: return Chance(0.7) ? new SymbolRefAttr(Pick("main", "f1", "weird name")) : new SymbolRefAttr("outer", ValueList.Of("inner", "leaf"));
            case 7: return new TypeAttr(RandomValueType());
            case 8:
            {
                var type = RandomStaticTensor();
                return RandomDense(type);
            }
            case 9: return RandomResource(RandomResourceType());
            case 10 or 11:
            {
                // Arrays: i64 and f64 elements print without their type here.
                var items = Enumerable.Range(0, _rng.Next(0, 5)).Select(_ => Chance(0.4)
                    ? (Chance(0.5) ? IntegerAttr.I64(_rng.NextInt64(long.MinValue, long.MaxValue)) : new FloatAttr(FiniteDouble(), ElementType.F64))
                    : RandomAttr(depth + 1));
                return ArrayAttr.Of(items);
            }
            default:
            {
                var entries = Enumerable.Range(0, _rng.Next(0, 4))
                    .Select(_ => new NamedAttr(Chance(0.8) ? Pick(AttrNames) : Pick("quoted key", "1starts.with.digit", "dash-key"), RandomAttr(depth + 1)))
                    .GroupBy(e => e.Name).Select(g => g.First());
                return DictionaryAttr.From(entries);
            }
        }
    }

    private DenseArrayAttr RandomDenseArray()
    {
        var t = Pick(ElementType.I1, ElementType.I8, ElementType.I16, ElementType.I32, ElementType.I64, ElementType.F32, ElementType.F64);
        int n = _rng.Next(0, 6);
        if (t.IsFloat)
            return new DenseArrayAttr(t, Enumerable.Range(0, n).Select(_ => unchecked((long)RandomFloatBits(t))).ToValueList());
        return DenseArrayAttr.OfInts(t, Enumerable.Range(0, n).Select(_ => t.IsBool ? _rng.Next(2) : SignedInRange(t)));
    }

    private DenseElementsAttr RandomDense(TensorType type)
    {
        var elem = type.Element;
        long count = type.ElementCount!.Value;
        int size = elem.ByteSize;
        if (count > 1 && Chance(0.25))
        {
            var one = new byte[size];
            WriteRandomElement(one, elem);
            return DenseElementsAttr.Create(type, one);
        }
        var bytes = new byte[count * size];
        for (long i = 0; i < count; i++) WriteRandomElement(bytes.AsSpan((int)(i * size), size), elem);
        if (count > 1 && Chance(0.1))
        {
            // All elements equal, written out: Create stores them as a splat, as MLIR does.
            for (long i = 1; i < count; i++) bytes.AsSpan(0, size).CopyTo(bytes.AsSpan((int)(i * size)));
        }
        // One element (tensor<i32>, tensor<1xf32>) is a splat too, and i1 data often comes out all equal.
        return DenseElementsAttr.Create(type, bytes);
    }

    private DenseResourceAttr RandomResource(TensorType type)
    {
        var data = new byte[type.ByteSize!.Value];
        _rng.NextBytes(data);
        if (type.Element.IsBool) for (int i = 0; i < data.Length; i++) data[i] &= 1;
        uint alignment = Pick(4u, 8u, 16u, 64u);
        if (MlirSafe && data.Length == 0) alignment = 0;
        // Keys are hints: Add makes a bare identifier of them (has_space, _1starts_with_digit), unique in the table.
        var key = _module.Resources.Add(Pick("w", "conv1.weight", "bias", "1starts_with_digit", "has space", "bn$1"),
            new ResourceBlob(alignment, data));
        return new DenseResourceAttr(type, key);
    }

    private static bool HasResource(Attr attr) => attr switch
    {
        DenseResourceAttr => true,
        ArrayAttr a => a.Elements.Any(HasResource),
        DictionaryAttr d => d.Entries.Any(e => HasResource(e.Value)),
        _ => false,
    };

    private void WriteRandomElement(Span<byte> dest, ElementType elem)
    {
        if (elem.IsBool) { dest[0] = (byte)_rng.Next(2); return; }
        if (elem.IsFloat)
        {
            ulong bits = RandomFloatBits(elem);
            switch (elem.BitWidth)
            {
                case 16: BinaryPrimitives.WriteUInt16LittleEndian(dest, (ushort)bits); break;
                case 32: BinaryPrimitives.WriteUInt32LittleEndian(dest, (uint)bits); break;
                default: BinaryPrimitives.WriteUInt64LittleEndian(dest, bits); break;
            }
            return;
        }
        _rng.NextBytes(dest);
    }

    // ------------------------------------------------------------------ numbers

    /// <summary>Bits of a float of <paramref name="type"/>: special values often, else any pattern (signalling NaNs included).</summary>
    private ulong RandomFloatBits(ElementType type)
    {
        int width = type.BitWidth;
        int mantissa = type.Name switch { "f16" => 10, "bf16" => 7, "f32" => 23, _ => 52 };
        ulong signBit = 1UL << (width - 1);
        ulong expMask = (signBit - 1) & ~((1UL << mantissa) - 1);
        ulong quiet = 1UL << (mantissa - 1);
        if (Chance(0.35))
        {
            return _rng.Next(12) switch
            {
                0 => 0,                                     // 0.0
                1 => signBit,                               // -0.0
                2 => expMask,                               // +inf
                3 => signBit | expMask,                     // -inf
                4 => expMask | quiet,                       // nan
                5 when Chance(0.5) => expMask | 1,          // signalling nan
                5 => signBit | expMask | quiet,             // -nan
                6 => expMask | quiet | 1,                   // nan with a payload
                7 => 1,                                     // smallest subnormal
                8 => expMask - 1,                           // largest finite
                9 => ElementCodec.BitsOf(type, 1.0),
                10 => ElementCodec.BitsOf(type, -0.1),
                _ => ElementCodec.BitsOf(type, 1e-5),
            };
        }
        ulong bits = (ulong)_rng.NextInt64() ^ ((ulong)_rng.Next() << 40);
        if (width < 64) bits &= (1UL << width) - 1;
        return bits;
    }

    private double FiniteDouble() => _rng.Next(4) switch
    {
        0 => Math.Round(_rng.NextDouble() * 100, 2),
        1 => -0.0,
        2 => BitConverter.Int64BitsToDouble(_rng.NextInt64(0, 0x7FEFFFFFFFFFFFFF)),
        _ => _rng.NextDouble() * 1e-300,
    };

    private long RandomInteger(ElementType t)
    {
        if (t.Kind == ElementKind.UnsignedInt)
        {
            if (t.BitWidth == 64) return _rng.NextInt64(long.MinValue, long.MaxValue); // any 64 bits
            return _rng.NextInt64(0, 1L << t.BitWidth);
        }
        if (t.Kind == ElementKind.Index) return _rng.NextInt64(long.MinValue, long.MaxValue);
        // Signless integers are held sign-extended, as MLIR does (255 : i8 is -1 : i8): any bits of the width.
        if (t.BitWidth < 64 && Chance(0.2)) return SignExtend(_rng.NextInt64(0, 1L << t.BitWidth), t.BitWidth);
        return SignedInRange(t);
    }

    private static long SignExtend(long v, int width) => (v << (64 - width)) >> (64 - width);

    private long SignedInRange(ElementType t)
    {
        if (t.BitWidth >= 64) return Chance(0.2) ? Pick(long.MinValue, long.MaxValue, 0L, -1L) : _rng.NextInt64(long.MinValue, long.MaxValue);
        long half = 1L << (t.BitWidth - 1);
        return Chance(0.2) ? Pick(-half, half - 1, 0L) : _rng.NextInt64(-half, half);
    }

    // ------------------------------------------------------------------ locations

    private Location RandomLocation(int depth = 0)
    {
        int p = _rng.Next(depth == 0 ? 8 : 4);
        switch (p)
        {
            case 0: return Location.Unknown;
            case 1: return Location.Named(Pick(LocNames));
            case 2: return new FileLineColLoc(Pick("model.prototxt", "graph.pb", "a dir/x.onnx"), _rng.Next(1, 5000), _rng.Next(1, 200));
            case 3: return Location.Named(Pick(LocNames));
            case 4:
            {
                if (Chance(0.7))
                {
                    // fused[...]: any locations, unknowns, repeats and nested fused ones included; Location.Fuse
                    // canonicalizes them as MLIR's FusedLoc::get does (flattened, without unknowns or repeats).
                    var items = Enumerable.Range(0, _rng.Next(2, 5))
                        .Select(_ => Chance(0.15) ? new FusedLoc(ValueList.Of(Location.Named(Pick(LocNames)), Location.Named("child")), null) : RandomLocation(depth + 1))
                        .ToArray();
                    return Location.Fuse(items);
                }
                // fused<metadata>[...]: Location.Fuse takes no metadata, so build MLIR's canonical form here:
                // different, known, non-fused locations (one is enough when there is metadata).
                var parts = new List<Location>();
                int want = _rng.Next(1, 4);
                while (parts.Count < want)
                {
                    var l = RandomLocation(depth + 1);
                    if (l is not UnknownLoc && !parts.Contains(l)) parts.Add(l);
                }
                return new FusedLoc(parts.ToValueList(), new StringAttr(Pick("onnx", "fold-bn")));
            }
            case 5: return new NameLoc(Pick(LocNames), RandomLocation(depth + 1) is var c and not UnknownLoc ? c : Location.Named("child"));
            case 6: return new CallSiteLoc(Location.Named(Pick(LocNames)), new FileLineColLoc("caller.py", _rng.Next(1, 99), _rng.Next(1, 40)));
            default: return Location.Named(Pick(LocNames));
        }
    }

    // ------------------------------------------------------------------ helpers

    private bool Chance(double p) => _rng.NextDouble() < p;
    private T Pick<T>(params T[] items) => items[_rng.Next(items.Length)];
}
