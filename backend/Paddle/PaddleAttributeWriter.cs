using Mopt.Ir;
using Mopt.Paddle.Proto;

namespace Mopt.Backend.Paddle;

/// <summary>
/// An IR attribute back into an OpDesc attribute of the AttrType its form stands for (the table in
/// docs/formats/paddle.md, which the importer's PaddleAttributes reads the other way).
/// </summary>
internal static class PaddleAttributeWriter
{
    public static OpDesc.Types.Attr Write(string name, Attr value, string what)
    {
        var a = new OpDesc.Types.Attr { Name = name };
        switch (value)
        {
            case IntegerAttr { Type.Name: "i32" } i: a.Type = AttrType.Int; a.I = checked((int)i.Value); break;
            case IntegerAttr { Type.Name: "i64" } i: a.Type = AttrType.Long; a.L = i.Value; break;
            case FloatAttr { Type.Name: "f32" } f: a.Type = AttrType.Float; a.F = (float)f.Value; break;
            case FloatAttr { Type.Name: "f64" } f: a.Type = AttrType.Float64; a.Float64 = f.Value; break;
            case BoolAttr b: a.Type = AttrType.Boolean; a.B = b.Value; break;
            case StringAttr s: a.Type = AttrType.String; a.S = s.Value; break;
            case DenseArrayAttr { Type.Name: "i32" } d: a.Type = AttrType.Ints; a.Ints.AddRange(d.Ints.Select(v => checked((int)v))); break;
            case DenseArrayAttr { Type.Name: "i64" } d: a.Type = AttrType.Longs; a.Longs.AddRange(d.Ints); break;
            case DenseArrayAttr { Type.Name: "f32" } d: a.Type = AttrType.Floats; a.Floats.AddRange(d.Floats.Select(v => (float)v)); break;
            case DenseArrayAttr { Type.Name: "f64" } d: a.Type = AttrType.Float64S; a.Float64S.AddRange(d.Floats); break;
            case DenseArrayAttr { Type.Name: "i1" } d: a.Type = AttrType.Booleans; a.Bools.AddRange(d.Ints.Select(v => v != 0)); break;
            case ArrayAttr arr when arr.Elements.All(e => e is StringAttr):
                a.Type = AttrType.Strings;
                a.Strings.AddRange(arr.Elements.Select(e => ((StringAttr)e).Value));
                break;
            case DictionaryAttr { Entries: [var tagged] }:
                Tagged(a, tagged, what);
                break;
            default:
                throw new MirException($"{what}: attribute '{name}' is {value}, which has no Paddle AttrType (docs/formats/paddle.md lists the forms)");
        }
        return a;
    }

    private static void Tagged(OpDesc.Types.Attr a, NamedAttr tagged, string what)
    {
        switch (tagged.Name, tagged.Value)
        {
            case ("block", IntegerAttr i): a.Type = AttrType.Block; a.BlockIdx = checked((int)i.Value); break;
            case ("blocks", DenseArrayAttr d): a.Type = AttrType.Blocks; a.BlocksIdx.AddRange(d.Ints.Select(v => checked((int)v))); break;
            case ("var", StringAttr s): a.Type = AttrType.Var; a.VarName = s.Value; break;
            case ("vars", ArrayAttr arr): a.Type = AttrType.Vars; a.VarsName.AddRange(arr.Elements.Select(e => (e as StringAttr)?.Value ?? throw Bad(a.Name, what))); break;
            case ("scalar", var v): a.Type = AttrType.Scalar; a.Scalar = Scalar(v, a.Name, what); break;
            case ("scalars", ArrayAttr arr): a.Type = AttrType.Scalars; a.Scalars.AddRange(arr.Elements.Select(e => Scalar(e, a.Name, what))); break;
            default: throw Bad(a.Name, what);
        }
    }

    private static Mopt.Paddle.Proto.Scalar Scalar(Attr value, string name, string what) => value switch
    {
        BoolAttr b => new() { Type = Mopt.Paddle.Proto.Scalar.Types.Type.Boolean, B = b.Value },
        IntegerAttr i => new() { Type = Mopt.Paddle.Proto.Scalar.Types.Type.Long, I = i.Value },
        FloatAttr f => new() { Type = Mopt.Paddle.Proto.Scalar.Types.Type.Float64, R = f.Value },
        DenseArrayAttr { Count: 2 } c when c.Type.IsFloat => new()
        {
            Type = Mopt.Paddle.Proto.Scalar.Types.Type.Complex128, C = new Complex { R = c.Floats.First(), I = c.Floats.Last() },
        },
        _ => throw Bad(name, what),
    };

    private static MirException Bad(string name, string what) =>
        new($"{what}: attribute '{name}' is a dictionary that is not one of Paddle's tagged forms (block, blocks, var, vars, scalar, scalars)");
}
