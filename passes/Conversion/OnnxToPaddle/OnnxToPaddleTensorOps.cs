using Mopt.Dialects.Onnx;
using Mopt.Dialects.Paddle;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OnnxToPaddleOp;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// The onnx → paddle lowerings of tensor plumbing: Split, Cast, Shape, ConstantOfShape, Gather and a Reshape whose
/// shape is computed (the inverses of PaddleShapeLowerings' and PaddleElementwiseLowerings' split, cast, shape,
/// fill_constant, gather and reshape2 with its Shape input).
/// <code>
/// Before: %s = "onnx.Shape"(%x) : (tensor&lt;1x6x30x40xf32&gt;) -> tensor&lt;4xi64&gt;
/// After:  %i = "paddle.shape"(%x) : ... -> tensor&lt;4xi32&gt;
///         %s = "paddle.cast"(%i) {in_dtype = 2 : i32, out_dtype = 3 : i32} : ... -> tensor&lt;4xi64&gt;
/// </code>
/// Paddle's shape gives int32, so a cast to ONNX's int64 follows. Paddle's gather takes no negative index (its kernel
/// enforces 0 &lt;= index), so an index must be a constant, made non-negative here.
/// </summary>
internal static class OnnxToPaddleTensorOps
{
    /// <summary>Paddle's VarType code of an element type, or blocked naming <paramref name="what"/>.</summary>
    public static int Code(ElementType element, string what) =>
        PaddleDataTypes.Code(element) ?? throw Blocked($"{what} is {element}, which Paddle has no type for");

    /// <summary>A paddle.cast of <paramref name="x"/> to <paramref name="to"/>, of the same shape.</summary>
    public static Value Cast(OnnxToPaddleOp l, Value x, ElementType to, bool named)
    {
        var type = TypeOf(x);
        return l.Paddle("cast", [("X", [x])], [("Out", [new TensorType(to, type.Shape)])],
            [I32("in_dtype", Code(type.Element, "its input")), I32("out_dtype", Code(to, "its output"))], named).Result;
    }

    public static Value Cast(OnnxToPaddleOp l)
    {
        var to = (l.Op.Result.Type as TensorType)?.Element ?? throw Blocked("its result is not a tensor");
        return Cast(l, l.Input(0), to, named: true);
    }

    /// <summary>Shape: paddle.shape (int32), its start/end (opset 15) as a slice, then a cast to int64.</summary>
    public static Value Shape(OnnxToPaddleOp l)
    {
        var x = l.Input(0);
        int rank = (x.Type as TensorType)?.Shape?.Count ?? throw Blocked("its input has an unknown rank");
        Value dims = l.Paddle("shape", [("Input", [x])], [("Out", [new TensorType(ElementType.I32, [rank])])], [], named: false).Result;
        long start = Math.Clamp(Normalize(l.Int("start", 0), rank), 0, rank);
        long end = Math.Clamp(Normalize(l.Int("end", rank), rank), 0, rank);
        if (start != 0 || end != rank)
        {
            long count = Math.Max(end - start, 0);
            dims = l.Paddle("slice", [("Input", [dims])], [("Out", [new TensorType(ElementType.I32, [count])])],
                [I32s("axes", [0]), I32s("starts", [start]), I32s("ends", [Math.Max(end, start)]), I32s("infer_flags", [1]), I32s("decrease_axis", [])], named: false).Result;
        }
        return Cast(l, dims, ElementType.I64, named: true);
    }

    private static long Normalize(long axis, long rank) => axis < 0 ? axis + rank : axis;

    /// <summary>
    /// Split: sections from the split input (opset 13) or attribute, else num (equal parts); opset 18's num_outputs
    /// with a remainder is written as sections (the last part smaller, as ONNX has it).
    /// </summary>
    public static IReadOnlyList<Value> Split(OnnxToPaddleOp l)
    {
        var x = l.Input(0);
        var shape = (x.Type as TensorType)?.Shape ?? throw Blocked("its input has an unknown rank");
        long axis = Normalize(l.Int("axis", 0), shape.Count);
        if (axis < 0 || axis >= shape.Count) throw Blocked($"axis {l.Int("axis", 0)} is outside rank {shape.Count}");
        int outputs = l.Op.Results.Count;
        long size = shape[(int)axis];
        long[]? sections = l.Optional(1) is not null ? l.ConstInts(1, "split") : l.Op.ReadInts("split");
        long num = 0;
        if (sections is null)
        {
            long parts = l.Int("num_outputs", outputs);
            if (parts != outputs) throw Blocked($"num_outputs {parts} for {outputs} outputs");
            if (size >= 0 && size % parts != 0)
            {
                // ONNX 18: ceil(size / parts) each, the last one what is left
                long chunk = (size + parts - 1) / parts;
                sections = Enumerable.Range(0, outputs).Select(i => Math.Min(chunk, size - i * chunk)).ToArray();
                if (sections.Any(s => s <= 0)) throw Blocked($"{size} does not split into {parts} parts of {chunk}");
            }
            else if (size < 0 && l.Op.GetAttr("num_outputs") is not null) throw Blocked("num_outputs with an unknown size on the axis: Paddle's num must divide it");
            else num = parts;
        }
        if (sections is not null && sections.Length != outputs) throw Blocked($"split {OpLowering.Text(sections)} for {outputs} outputs");
        if (sections is not null && sections.Any(s => s < 0)) throw Blocked($"split {OpLowering.Text(sections)} has a negative size");
        var types = l.Op.Results.Select(r => r.Type).ToArray();
        var split = l.Paddle("split", [("X", [x])], [("Out", types)],
            [I32("axis", axis), I32("num", num), I32s("sections", sections ?? [])]);
        return split.Results;
    }

    /// <summary>ConstantOfShape: fill_constant, its shape an attribute when constant, else the ShapeTensor input.</summary>
    public static Value ConstantOfShape(OnnxToPaddleOp l)
    {
        var type = l.Op.Result.Type as TensorType ?? throw Blocked("its result is not a tensor");
        var value = l.Op.GetAttr("value") is { } attr
            ? Constants.TryGet(attr, l.Module) ?? throw Blocked("its value is not a tensor of one element")
            : new ConstantTensor(new TensorType(ElementType.F32, [1]), new byte[4]);
        if (value.ElementCount != 1) throw Blocked($"its value has {value.ElementCount} elements, not one");
        var shapeInput = l.Input(0);
        bool constant = Constants.IsConstant(shapeInput);
        (string, Value[])[] inputs = constant ? [] : [("ShapeTensor", [shapeInput])];
        var shape = constant ? l.ConstInts(0, "shape") : [];
        return l.Paddle("fill_constant", inputs, [("Out", [type])], FillAttrs(value, shape)).Result;
    }

    /// <summary>
    /// fill_constant's attributes for one value: dtype, shape (LONGS), value as a float and, exact whatever the type,
    /// str_value (Paddle parses it when it is not empty: as an integer for int64, else as a double).
    /// </summary>
    public static NamedAttr[] FillAttrs(ConstantTensor value, IEnumerable<long> shape)
    {
        var element = value.Type.Element;
        int code = Code(element, "its value");
        var one = value.Bytes.Span[..element.ByteSize];
        string text;
        double number;
        if (element.IsFloat)
        {
            number = ElementCodec.ReadFloat(one, element);
            text = double.IsNaN(number) ? "nan" : double.IsPositiveInfinity(number) ? "inf" : double.IsNegativeInfinity(number) ? "-inf"
                : element.BitWidth <= 32 ? ((float)number).ToString("R", System.Globalization.CultureInfo.InvariantCulture)
                : number.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            long integer = ElementCodec.ReadInteger(one, element);
            number = integer;
            text = integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return [I32("dtype", code), I64s("shape", shape), F32("value", number), Text("str_value", text), Bool("force_cpu", false)];
    }

    /// <summary>
    /// Gather: Paddle's gather on one axis with a 0-D or 1-D index (0-D drops the axis, as ONNX's scalar index does);
    /// a higher-rank index is flattened and the result reshaped. The index must be a constant: ONNX counts a negative
    /// one from the end, Paddle's kernel refuses it, so it is made non-negative here.
    /// </summary>
    public static Value Gather(OnnxToPaddleOp l)
    {
        var x = l.Input(0);
        var xShape = (x.Type as TensorType)?.Shape ?? throw Blocked("its input has an unknown rank");
        long axis = Normalize(l.Int("axis", 0), xShape.Count);
        if (axis < 0 || axis >= xShape.Count) throw Blocked($"axis {l.Int("axis", 0)} is outside rank {xShape.Count}");
        var indexValue = l.Input(1);
        var index = Constants.TryGet(indexValue, l.Module)
            ?? throw Blocked("its indices are not a constant: ONNX counts a negative index from the end, Paddle's gather refuses one, and a computed index may be negative");
        var indices = index.ToInt64s();
        long size = xShape[(int)axis];
        if (indices.Any(i => i < 0) && size < 0) throw Blocked($"a negative index on axis {axis}, whose size is unknown");
        if (size >= 0 && indices.Any(i => i < -size || i >= size)) throw Blocked($"an index is outside axis {axis}'s {size} entries");
        var fixedIndices = indices.Select(i => i < 0 ? i + size : i).ToArray();
        int indexRank = index.Type.Shape!.Count;
        long[] indexShape = indexRank <= 1 ? [.. index.Type.Shape] : [fixedIndices.Length];
        Value idx = fixedIndices.SequenceEqual(indices) && indexRank <= 1
            ? indexValue
            : l.Int64Constant(fixedIndices, indexShape, "indices");
        var resultType = l.Op.Result.Type as TensorType ?? throw Blocked("its result is not a tensor");
        if (indexRank <= 1)
            return l.Paddle("gather", [("X", [x]), ("Index", [idx])], [("Out", [resultType])], [I32("axis", axis)]).Result;
        var flatShape = xShape.Select((d, i) => i == axis ? fixedIndices.Length : d).ToArray();
        var flat = l.Paddle("gather", [("X", [x]), ("Index", [idx])], [("Out", [new TensorType(resultType.Element, flatShape)])], [I32("axis", axis)], named: false).Result;
        var target = resultType.Shape ?? throw Blocked("its result has an unknown shape");
        if (target.Count(d => d < 0) > 1) throw Blocked("its result has more than one unknown dimension to reshape to");
        return l.Unary("reshape2", flat, I32s("shape", target));
    }

    /// <summary>Reshape with a computed shape: reshape2's Shape input, as int32 (what Paddle 2.0's kernel reads).</summary>
    public static Value ComputedReshape(OnnxToPaddleOp l)
    {
        var shape = l.Input(1);
        if (TypeOf(shape).Element != ElementType.I32) shape = Cast(l, shape, ElementType.I32, named: false);
        return l.Paddle("reshape2", [("X", [l.Input(0)]), ("Shape", [shape])], [("Out", [l.Op.Result.Type])], []).Result;
    }
}
