using Mopt.Ir;
using Mopt.Paddle.Proto;

namespace Mopt.Frontend.Paddle;

/// <summary>
/// An OpDesc's attributes as IR attributes, each AttrType to its own form so that the writer gives back the same type
/// (Paddle reads an attribute by its type, and one name may have different types in different files: relu's
/// <c>is_test</c> is INT in one real model and BOOLEAN in another). The table is in docs/formats/paddle.md.
/// </summary>
public static class PaddleAttributes
{
    /// <summary>Python stack traces of the script that built the program: not kept (large, and no runtime reads them).</summary>
    public const string CallStack = "op_callstack";

    public static List<NamedAttr> Of(OpDesc op, string what)
    {
        var attrs = new List<NamedAttr>(op.Attrs.Count + 4);
        foreach (var a in op.Attrs)
        {
            if (a.Name == CallStack) continue;
            attrs.Add(new NamedAttr(a.Name, Value(a, what)));
        }
        return attrs;
    }

    private static Attr Value(OpDesc.Types.Attr a, string what) => a.Type switch
    {
        AttrType.Int => new IntegerAttr(a.I, ElementType.I32),
        AttrType.Long => new IntegerAttr(a.L, ElementType.I64),
        AttrType.Float => new FloatAttr(a.F, ElementType.F32),
        AttrType.Float64 => new FloatAttr(a.Float64, ElementType.F64),
        AttrType.Boolean => a.B ? BoolAttr.True : BoolAttr.False,
        AttrType.String => new StringAttr(a.S),
        AttrType.Ints => DenseArrayAttr.OfInts(ElementType.I32, a.Ints.Select(i => (long)i)),
        AttrType.Longs => DenseArrayAttr.OfInts(ElementType.I64, a.Longs),
        AttrType.Floats => DenseArrayAttr.OfFloats(ElementType.F32, a.Floats.Select(f => (double)f)),
        AttrType.Float64S => DenseArrayAttr.OfFloats(ElementType.F64, a.Float64S),
        AttrType.Booleans => DenseArrayAttr.OfInts(ElementType.I1, a.Bools.Select(b => b ? 1L : 0L)),
        AttrType.Strings => ArrayAttr.OfStrings(a.Strings),
        AttrType.Block => Tagged("block", new IntegerAttr(a.BlockIdx, ElementType.I32)),
        AttrType.Blocks => Tagged("blocks", DenseArrayAttr.OfInts(ElementType.I32, a.BlocksIdx.Select(i => (long)i))),
        AttrType.Var => Tagged("var", new StringAttr(a.VarName)),
        AttrType.Vars => Tagged("vars", ArrayAttr.OfStrings(a.VarsName)),
        AttrType.Scalar => Tagged("scalar", Scalar(a.Scalar, a.Name, what)),
        AttrType.Scalars => Tagged("scalars", ArrayAttr.Of(a.Scalars.Select(s => Scalar(s, a.Name, what)))),
        _ => throw new MirException($"{what}: attribute '{a.Name}' has AttrType {(int)a.Type}, which Paddle does not define (0..17)"),
    };

    /// <summary>The kinds with no IR form of their own: a one-entry dictionary naming the kind, <c>{block = 1 : i32}</c>.</summary>
    private static DictionaryAttr Tagged(string kind, Attr value) => DictionaryAttr.From([new NamedAttr(kind, value)]);

    private static Attr Scalar(Mopt.Paddle.Proto.Scalar? s, string name, string what) => s?.Type switch
    {
        Mopt.Paddle.Proto.Scalar.Types.Type.Boolean => s.B ? BoolAttr.True : BoolAttr.False,
        Mopt.Paddle.Proto.Scalar.Types.Type.Long => IntegerAttr.I64(s.I),
        Mopt.Paddle.Proto.Scalar.Types.Type.Float64 => new FloatAttr(s.R, ElementType.F64),
        Mopt.Paddle.Proto.Scalar.Types.Type.Complex128 => DenseArrayAttr.OfFloats(ElementType.F64, [s.C?.R ?? 0, s.C?.I ?? 0]),
        _ => throw new MirException($"{what}: attribute '{name}' holds a Scalar of type {(s is null ? "(none)" : ((int)s.Type).ToString(System.Globalization.CultureInfo.InvariantCulture))}, which Paddle does not define"),
    };
}
