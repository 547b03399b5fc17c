using System.Globalization;
using System.Runtime.InteropServices;
using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>Why one source node cannot be lowered (a non-constant axis, an unknown rank, a mode ONNX lacks).</summary>
internal sealed class LoweringBlocked(string reason) : Exception(reason);

/// <summary>Lowers one source op (<c>tf.*</c>, <c>caffe.*</c>): returns the values that replace its results (one per result).</summary>
internal delegate IReadOnlyList<Value> Lowering(OpLowering l);

/// <summary>
/// What a lowering of one source-dialect op (<c>tf.*</c>, <c>caffe.*</c>) works with: its attributes and inputs, constant inputs read as numbers, and
/// an emitter of <c>onnx.*</c> ops before it whose result types the onnx shape rules infer at once, so the next op
/// sees typed inputs. Every op it makes goes through the <see cref="PatternRewriter"/>.
/// </summary>
/// <param name="created">Where the ops it makes are listed: the driver's one list, empty when given (no list per source op).</param>
internal sealed class OpLowering(Operation op, PatternRewriter rewriter, TypeInferenceContext types, List<Operation> created)
{
    private readonly List<Operation> _created = created;

    public Operation Op => op;
    public MirModule Module => rewriter.Module;
    /// <summary>The node's name (its location).</summary>
    public string Node => op.Location.FirstName ?? op.Name;

    public static LoweringBlocked Blocked(string reason) => new(reason);

    // ------------------------------------------------------------------ inputs

    public int InputCount => op.OperandCount;

    public Value Input(int i)
    {
        if (i >= op.OperandCount) throw Blocked($"it has {op.OperandCount} inputs, input {i} is missing");
        return op.GetOperand(i);
    }

    public static TensorType TypeOf(Value v) => v.Type as TensorType ?? throw Blocked($"an input has type {v.Type}, not a tensor");

    public static int? RankOf(Value v) => (v.Type as TensorType)?.Shape?.Count;

    public int Rank(Value v, string what) => RankOf(v) ?? throw Blocked($"{what} has an unknown rank (set the input shape, e.g. --set-input-shape)");

    public static ElementType ElementOf(Value v) => TypeOf(v).Element;

    /// <summary>Input <paramref name="i"/> as integers: it must be a constant (TF's axes, shapes and paddings usually are).</summary>
    public long[] ConstInts(int i, string what)
    {
        var v = Input(i);
        if (Constants.TryGet(v, Module) is not { } c)
            throw Blocked($"its {what} (input {i}{ProducerText(v)}) is not a constant, and ONNX needs it as one here");
        if (!c.Type.Element.IsInteger) throw Blocked($"its {what} (input {i}) is {c.Type.Element}, not integers");
        return c.ToInt64s();
    }

    public bool IsConst(int i) => i < op.OperandCount && Constants.IsConstant(op.GetOperand(i));

    private static string ProducerText(Value v) => v is OpResult r ? $", from '{r.Owner.Location.FirstName ?? r.Owner.Name}' ({r.Owner.OpType})" : "";

    // ------------------------------------------------------------------ attributes

    public string Str(string name, string defaultValue) => op.ReadString(name) ?? defaultValue;
    public long Int(string name, long defaultValue) => op.ReadInt(name) ?? defaultValue;
    public long[]? Ints(string name) => op.ReadInts(name);
    public float Float(string name, float defaultValue) => (float)(op.ReadFloat(name) ?? defaultValue);
    public bool Bool(string name, bool defaultValue = false) => op.GetAttr(name) switch
    {
        null => defaultValue,
        BoolAttr b => b.Value,
        IntegerAttr i => i.Value != 0,
        var other => throw Blocked($"attribute '{name}' is {other}, not a bool"),
    };

    /// <summary>A type attribute (<c>T</c>, <c>DstT</c>, <c>out_type</c>) as an IR element type, or null when absent.</summary>
    public ElementType? TypeAttr(string name) => op.GetAttr(name) switch
    {
        null => null,
        TypeAttr { Type: ElementType e } => e,
        var other => throw Blocked($"attribute '{name}' is {other}, a type ONNX has no element type for"),
    };

    // ------------------------------------------------------------------ emitting onnx ops

    /// <summary>
    /// Creates <c>onnx.<paramref name="name"/></c> before the op, at its location, and types its results with the onnx
    /// shape rules (an unranked tensor of <paramref name="element"/>, the first input's element type by default, when
    /// the rule knows nothing).
    /// </summary>
    public Value Emit(string name, IReadOnlyList<Value> operands, IEnumerable<NamedAttr>? attributes = null, ElementType? element = null)
    {
        var elem = element ?? (operands.Count > 0 ? ElementOf(operands[0]) : ElementType.F32);
        var created = rewriter.Create("onnx." + name, operands, [TensorType.Unranked(elem)], attributes, op.Location);
        _created.Add(created);
        TypeInference.Apply(created, types);
        return created.Result;
    }

    /// <summary>
    /// What <c>[Emit(name, operands, attributes)]</c> gives, made of the source op itself: it becomes
    /// <c>onnx.<paramref name="name"/></c> in place (its location, position and result names stay), so there is no new
    /// op to make, no uses to move and no source op to erase (most Caffe layers are one ONNX node). Only as a lowering's
    /// last step, returning what it returns; an op with other than one result gets a new op (<see cref="Emit"/>).
    /// </summary>
    public IReadOnlyList<Value> Become(string name, IReadOnlyList<Value> operands, IReadOnlyList<NamedAttr>? attributes = null, ElementType? element = null)
    {
        if (op.Results.Count != 1) return [Emit(name, operands, attributes, element)];
        var elem = element ?? (operands.Count > 0 ? ElementOf(operands[0]) : ElementType.F32);
        var modification = rewriter.StartModification(op);
        if (!SameOperands(operands)) op.SetOperands(operands);
        op.Name = "onnx." + name;
        op.ReplaceAttributes(attributes ?? [], rewriter.Registry.IsResultNamesAttribute);
        op.Result.Type = TensorType.Unranked(elem);
        rewriter.FinalizeModification(modification);
        TypeInference.Apply(op, types);
        return op.Results;
    }

    private bool SameOperands(IReadOnlyList<Value> operands)
    {
        if (operands.Count != op.OperandCount) return false;
        for (int i = 0; i < operands.Count; i++)
            if (op.GetOperand(i) != operands[i]) return false;
        return true;
    }

    /// <summary>Like <see cref="Emit"/>, for an op with one result per element type in <paramref name="elements"/> (Split, TopK), typed by the onnx shape rules.</summary>
    public IReadOnlyList<Value> EmitResults(string name, IReadOnlyList<Value> operands, IReadOnlyList<ElementType> elements, IEnumerable<NamedAttr>? attributes = null)
    {
        var created = rewriter.Create("onnx." + name, operands, elements.Select(e => (MirType)TensorType.Unranked(e)), attributes, op.Location);
        _created.Add(created);
        TypeInference.Apply(created, types);
        return created.Results;
    }

    public Value Transpose(Value x, IReadOnlyList<long> perm) =>
        Emit("Transpose", [x], [new NamedAttr("perm", ArrayAttr.OfInts(perm))]);

    public Value ConstI64(IReadOnlyList<long> values, string hint, bool scalar = false)
    {
        var type = new TensorType(ElementType.I64, scalar ? [] : [values.Count]);
        return Const(type, MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray(), hint);
    }

    /// <summary>A scalar constant of <paramref name="element"/> (a float type) holding <paramref name="value"/>.</summary>
    public Value ScalarFloat(ElementType element, double value, string hint)
    {
        var bytes = new byte[element.ByteSize];
        if (element == ElementType.F32) BitConverter.TryWriteBytes(bytes, (float)value);
        else if (element == ElementType.F64) BitConverter.TryWriteBytes(bytes, value);
        else if (element == ElementType.F16) BitConverter.TryWriteBytes(bytes, (Half)value);
        else throw Blocked($"element type {element} is not supported here");
        return Const(new TensorType(element, []), bytes, hint);
    }

    public Value Const(TensorType type, byte[] bytes, string hint) => NamedConst(type, bytes, $"{Node}/{hint}");

    private Value NamedConst(TensorType type, byte[] bytes, string name)
    {
        var value = Constants.Create(rewriter.Builder, Module, type, bytes, Location.Named(name), name);
        _created.Add(((OpResult)value).Owner);
        return value;
    }

    /// <summary>
    /// A filter in ONNX's layout: Transpose(f, perm) reshaped to <paramref name="shape"/>. A constant filter's bytes are
    /// moved once into a new constant named after it; any other gets Transpose (and Reshape) ops.
    /// </summary>
    public Value PermutedFilter(Value f, long[] perm, long[] shape)
    {
        var type = TypeOf(f);
        var target = new TensorType(type.Element, shape);
        if (Constants.TryGet(f, Module) is { } c && !type.Element.IsPacked)
        {
            var name = f is OpResult { Owner.Location.FirstName: { } n } ? n : $"{Node}/filter";
            return NamedConst(target, Permutation.Bytes(c.Bytes.Span, type.Shape!, perm, type.Element.ByteSize), name);
        }
        var t = Transpose(f, perm);
        return Permutation.Apply(type.Shape!, perm).SequenceEqual(shape) ? t : Emit("Reshape", [t, ConstI64(shape, "filter_shape")]);
    }

    /// <summary>An <c>onnx.Constant</c> holding <paramref name="value"/> as it is (a blob stays the same blob).</summary>
    public Value ConstAttr(Attr value, TensorType type)
    {
        var created = rewriter.Create(Constants.ConstantOp, [], [type], [new NamedAttr("value", value)], op.Location);
        _created.Add(created);
        return created.Result;
    }

    /// <summary>
    /// Like <see cref="ConstAttr"/>, just after <paramref name="source"/>, the constant it is made from, when that comes
    /// before the op in its block: a weight reshaped stays where the weights are (an importer puts them first), so the
    /// lowered net keeps its data flow's order. Otherwise (a blob of a later layer, as a Scale's) before the op.
    /// </summary>
    public Value ConstAttrAfter(Operation source, Attr value, TensorType type)
    {
        if (source.Parent != op.Parent || source.Parent is not { } block || block.IndexOf(source) > block.IndexOf(op)) return ConstAttr(value, type);
        var point = rewriter.SaveInsertionPoint();
        rewriter.SetInsertionPointAfter(source);
        var created = ConstAttr(value, type);
        rewriter.RestoreInsertionPoint(point);
        return created;
    }

    /// <summary>Erases what a lowering that gave up had made, newest first.</summary>
    public void EraseCreated()
    {
        for (int i = _created.Count - 1; i >= 0; i--)
            if (_created[i].Parent is not null && _created[i].IsUnused) rewriter.EraseOp(_created[i]);
        _created.Clear();
    }

    public static string Text(IEnumerable<long> values) => "[" + string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";

    public static NamedAttr Attr(string name, long value) => new(name, IntegerAttr.I64(value));
    public static NamedAttr Attr(string name, IEnumerable<long> values) => new(name, ArrayAttr.OfInts(values));
    public static NamedAttr Attr(string name, float value) => new(name, FloatAttr.F32(value));
    public static NamedAttr Attr(string name, string value) => new(name, new StringAttr(value));
}
