using Mopt.Dialects.Mo;
using Mopt.Dialects.Paddle;
using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// What a lowering of one <c>onnx.*</c> op to <c>paddle.*</c> works with: its attributes with ONNX's defaults, constant
/// inputs read as integers or floats (a constant nothing else reads then goes in the pass manager's sweep), and
/// a maker of <c>paddle.*</c> ops before it, with slots (<c>paddle.inputs</c>/<c>paddle.outputs</c>) and Paddle's
/// attribute forms (<c>: i32</c> for INT, <c>array&lt;i32&gt;</c> for INTS, ...).
/// </summary>
internal sealed class OnnxToPaddleOp(Operation op, MirModule module)
{
    private readonly OpBuilder _builder = OpBuilder.Before(op);

    public Operation Op => op;
    public MirModule Module => module;

    public Value Input(int i) => i < op.OperandCount ? op.GetOperand(i) : throw OpLowering.Blocked($"it has {op.OperandCount} inputs, input {i} is missing");
    public Value? Optional(int i) => i < op.OperandCount && op.GetOperand(i) is not OpResult { Owner.Name: OnnxDialect.NoValueOp } ? op.GetOperand(i) : null;

    public long Int(string name, long defaultValue) => op.ReadInt(name) ?? defaultValue;
    public long[] Ints(string name, long[] defaultValue) => op.ReadInts(name) ?? defaultValue;
    public double Float(string name, double defaultValue) => op.ReadFloat(name) ?? defaultValue;
    public string Str(string name, string defaultValue) => op.ReadString(name) ?? defaultValue;

    /// <summary>Input <paramref name="i"/> as integers: it must be a constant.</summary>
    public long[] ConstInts(int i, string what)
    {
        var v = Input(i);
        var c = Constants.TryGet(v, module) ?? throw OpLowering.Blocked($"its {what} (input {i}) is not a constant; Paddle takes it as an attribute");
        if (!c.Type.Element.IsInteger) throw OpLowering.Blocked($"its {what} is {c.Type.Element}, not integers");
        return c.ToInt64s();
    }

    /// <summary>Input <paramref name="i"/> as one float (a Clip's bound), or null when the input is absent.</summary>
    public double? ConstScalar(int i, string what)
    {
        if (Optional(i) is not { } v) return null;
        var c = Constants.TryGet(v, module) ?? throw OpLowering.Blocked($"its {what} (input {i}) is not a constant");
        if (c.ElementCount != 1) throw OpLowering.Blocked($"its {what} has {c.ElementCount} values, not one");
        return c.ToFloats()[0];
    }

    /// <summary>
    /// A <c>paddle.<paramref name="type"/></c> op before the onnx op: <paramref name="inputs"/> by slot (in name order, as
    /// Paddle writes them), <paramref name="outputs"/> by slot with their types; the first output slot's first result
    /// keeps the onnx op's output name (<c>mo.outputs</c>) when <paramref name="named"/>.
    /// </summary>
    public Operation Paddle(string type, (string Slot, Value[] Values)[] inputs, (string Slot, MirType[] Types)[] outputs, IEnumerable<NamedAttr> attrs, bool named = true, string[]? noLod = null)
    {
        var ins = inputs.OrderBy(i => i.Slot, StringComparer.Ordinal).ToArray();
        var outs = outputs.OrderBy(o => o.Slot, StringComparer.Ordinal).ToArray();
        var all = attrs.ToList();
        all.Add(new NamedAttr(PaddleDialect.InputsAttr, DictionaryAttr.From(ins.Select(i => new NamedAttr(i.Slot, new IntegerAttr(i.Values.Length, ElementType.I32))))));
        all.Add(new NamedAttr(PaddleDialect.OutputsAttr, DictionaryAttr.From(outs.Select(o => new NamedAttr(o.Slot, new IntegerAttr(o.Types.Length, ElementType.I32))))));
        if (noLod is { Length: > 0 }) all.Add(new NamedAttr(PaddleDialect.OutputsWithoutLodAttr, ArrayAttr.OfStrings(noLod)));
        if (named && op.GetAttr(MoDialect.OutputsAttr) is ArrayAttr { Elements.Count: > 0 } names)
        {
            int count = outs.Sum(o => o.Types.Length);
            if (count == 1) all.Add(new NamedAttr(MoDialect.OutputsAttr, ArrayAttr.Of([names.Elements[0]])));
            // a split: its results are the onnx op's, one for one
            else if (count == op.Results.Count && count == names.Elements.Count) all.Add(new NamedAttr(MoDialect.OutputsAttr, names));
        }
        return _builder.Create(PaddleDialect.Name + "." + type, ins.SelectMany(i => i.Values), outs.SelectMany(o => o.Types), all, op.Location);
    }

    /// <summary>An op with one input slot X and one output Out of the onnx op's result type.</summary>
    public Value Unary(string type, Value x, params NamedAttr[] attrs) => Paddle(type, [("X", [x])], [("Out", [op.Results[0].Type])], attrs).Result;

    /// <summary>
    /// <paramref name="v"/> (a constant) under another shape: a blob's bytes are shared (the same key, a new type), a
    /// dense value's copied; row-major order is the same in ONNX and Paddle.
    /// </summary>
    public Value Reshaped(Value v, long[] shape, string what)
    {
        var attr = Constants.DefiningConstant(v) is { } producer ? Constants.ValueAttribute(producer) : null;
        var c = Constants.TryGet(attr, module) ?? throw OpLowering.Blocked($"its {what} is not a constant");
        var type = new TensorType(c.Type.Element, shape);
        if (type.ElementCount != c.Type.ElementCount) throw OpLowering.Blocked($"its {what} has {c.Type.ElementCount} values, not {type.ElementCount}");
        var location = v is OpResult { Owner.Location: var l } ? l : op.Location;
        return attr is DenseResourceAttr resource
            ? _builder.Constant(new DenseResourceAttr(type, resource.Key), type, location)
            : _builder.Constant(DenseElementsAttr.Create(type, c.Bytes.ToArray()), type, location);
    }

    /// <summary>A new int64 constant before the op, named <c>node/hint</c> (the Paddle writer makes it a parameter of that name).</summary>
    public Value Int64Constant(long[] values, long[] shape, string hint)
    {
        var name = $"{op.Location.FirstName ?? op.OpType}/{hint}";
        return Constants.Create(_builder, module, new TensorType(ElementType.I64, shape), System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), Location.Named(name), name);
    }

    public static NamedAttr I32(string name, long v) => new(name, new IntegerAttr(checked((int)v), ElementType.I32));
    public static NamedAttr I32s(string name, IEnumerable<long> v) => new(name, DenseArrayAttr.OfInts(ElementType.I32, v));
    public static NamedAttr I64s(string name, IEnumerable<long> v) => new(name, DenseArrayAttr.OfInts(ElementType.I64, v));
    public static NamedAttr F32s(string name, IEnumerable<double> v) => new(name, DenseArrayAttr.OfFloats(ElementType.F32, v));
    public static NamedAttr F32(string name, double v) => new(name, new FloatAttr((float)v, ElementType.F32));
    public static NamedAttr Bool(string name, bool v) => new(name, v ? BoolAttr.True : BoolAttr.False);
    public static NamedAttr Text(string name, string v) => new(name, new StringAttr(v));
}
