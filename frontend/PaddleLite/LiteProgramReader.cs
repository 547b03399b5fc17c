using System.Text;
using Mopt.Dialects.Paddle;
using Mopt.Ir;
using Mopt.Paddle.Proto;

namespace Mopt.Frontend.PaddleLite;

/// <summary>
/// A checked framework.fbs ProgramDesc (a .nb's topology) → the framework.proto ProgramDesc that <c>PaddleImporter</c>
/// imports: the same messages, field for field (the numbers of AttrType and VarType.Type are the same in both), a field
/// set only where the flatbuffer has it. Each op's input and output slots and its attributes must be sorted by name, as
/// Paddle-Lite finds them by binary search (<c>LookupByKey</c>).
/// </summary>
public static class LiteProgramReader
{
    public static ProgramDesc Read(FlatTable root, string what)
    {
        var program = new ProgramDesc();
        var blocks = root.Vector(0);
        for (int b = 0; b < blocks.Count; b++) program.Blocks.Add(Block(blocks.Table(b), $"{what}: block {b}"));
        if (root.Table(1) is { } version) program.Version = new Mopt.Paddle.Proto.Version { Version_ = version.Int64(0) };
        if (root.Table(2) is { } map)
        {
            program.OpVersionMap = new OpVersionMap();
            var pairs = map.Vector(0);
            for (int i = 0; i < pairs.Count; i++)
            {
                var pair = pairs.Table(i);
                program.OpVersionMap.Pair.Add(new OpVersionMap.Types.OpVersionPair { OpName = pair.String(0)!, OpVersion = new OpVersion { Version = pair.Table(1)!.Value.Int32(0) } });
            }
        }
        return program;
    }

    private static BlockDesc Block(FlatTable t, string what)
    {
        var block = new BlockDesc { Idx = t.Int32(0), ParentIdx = t.Int32(1) };
        if (t.Has(4)) block.ForwardBlockIdx = t.Int32(4);
        var vars = t.Vector(2);
        for (int i = 0; i < vars.Count; i++) block.Vars.Add(Var(vars.Table(i)));
        var ops = t.Vector(3);
        for (int i = 0; i < ops.Count; i++) block.Ops.Add(Op(ops.Table(i), $"{what} op {i}"));
        return block;
    }

    private static VarDesc Var(FlatTable t)
    {
        var var = new VarDesc { Name = t.String(0)!, Type = VarType(t.Table(1)!.Value) };
        if (t.Has(2)) var.Persistable = t.Bool(2);
        if (t.Has(3)) var.NeedCheckFeed = t.Bool(3);
        return var;
    }

    private static VarType VarType(FlatTable t)
    {
        var type = new VarType { Type = (VarType.Types.Type)t.Int32(0) };
        if (t.Table(1) is { } rows) type.SelectedRows = Tensor(rows);
        if (t.Table(2) is { } lod) type.LodTensor = LodTensor(lod);
        if (t.Table(3) is { } array)
        {
            type.TensorArray = new VarType.Types.LoDTensorArrayDesc { Tensor = Tensor(array.Table(0)!.Value) };
            if (array.Has(1)) type.TensorArray.LodLevel = array.Int32(1);
        }
        if (t.Table(4) is { } reader)
        {
            type.Reader = new VarType.Types.ReaderDesc();
            var tensors = reader.Vector(0);
            for (int i = 0; i < tensors.Count; i++) type.Reader.LodTensor.Add(LodTensor(tensors.Table(i)));
        }
        if (t.Table(5) is { } tuple)
        {
            type.Tuple = new VarType.Types.Tuple();
            var elements = tuple.Vector(0);
            for (int i = 0; i < elements.Count; i++) type.Tuple.ElementType.Add((VarType.Types.Type)elements.Int32(i));
        }
        return type;
    }

    private static VarType.Types.LoDTensorDesc LodTensor(FlatTable t)
    {
        var desc = new VarType.Types.LoDTensorDesc { Tensor = Tensor(t.Table(0)!.Value) };
        if (t.Has(1)) desc.LodLevel = t.Int32(1);
        return desc;
    }

    private static VarType.Types.TensorDesc Tensor(FlatTable t)
    {
        var desc = new VarType.Types.TensorDesc { DataType = (VarType.Types.Type)t.Int32(0) };
        var dims = t.Vector(1);
        for (int i = 0; i < dims.Count; i++) desc.Dims.Add(dims.Int64(i));
        return desc;
    }

    private static OpDesc Op(FlatTable t, string what)
    {
        var op = new OpDesc { Type = t.String(0)! };
        what = $"{what} ({op.Type})";
        Slots(t.Vector(1), op.Inputs, $"{what}: its input slots");
        Slots(t.Vector(2), op.Outputs, $"{what}: its output slots");
        var attrs = t.Vector(3);
        for (int i = 0; i < attrs.Count; i++)
        {
            var attr = Attr(attrs.Table(i));
            if (i > 0) Sorted(op.Attrs[^1].Name, attr.Name, $"{what}: its attributes");
            op.Attrs.Add(attr);
        }
        if (t.Has(4)) op.IsTarget = t.Bool(4);
        return op;
    }

    private static void Slots(FlatVector slots, Google.Protobuf.Collections.RepeatedField<OpDesc.Types.Var> into, string what)
    {
        for (int i = 0; i < slots.Count; i++)
        {
            var t = slots.Table(i);
            var slot = new OpDesc.Types.Var { Parameter = t.String(0)! };
            var arguments = t.Vector(1);
            for (int a = 0; a < arguments.Count; a++) slot.Arguments.Add(arguments.String(a));
            if (i > 0) Sorted(into[^1].Parameter, slot.Parameter, what);
            into.Add(slot);
        }
    }

    private static OpDesc.Types.Attr Attr(FlatTable t)
    {
        var attr = new OpDesc.Types.Attr { Name = t.String(0)!, Type = (AttrType)t.Int32(1) };
        if (t.Has(2)) attr.I = t.Int32(2);
        if (t.Has(3)) attr.F = t.Float32(3);
        if (t.String(4) is { } s) attr.S = s;
        var ints = t.Vector(5);
        for (int i = 0; i < ints.Count; i++) attr.Ints.Add(ints.Int32(i));
        var floats = t.Vector(6);
        for (int i = 0; i < floats.Count; i++) attr.Floats.Add(floats.Float32(i));
        var strings = t.Vector(7);
        for (int i = 0; i < strings.Count; i++) attr.Strings.Add(strings.String(i));
        if (t.Has(8)) attr.B = t.Bool(8);
        var bools = t.Vector(9);
        for (int i = 0; i < bools.Count; i++) attr.Bools.Add(bools.Bool(i));
        if (t.Has(10)) attr.BlockIdx = t.Int32(10);
        if (t.Has(11)) attr.L = t.Int64(11);
        var blocks = t.Vector(12);
        for (int i = 0; i < blocks.Count; i++) attr.BlocksIdx.Add(blocks.Int32(i));
        var longs = t.Vector(13);
        for (int i = 0; i < longs.Count; i++) attr.Longs.Add(longs.Int64(i));
        if (t.Has(14)) attr.Float64 = t.Float64(14);
        var doubles = t.Vector(15);
        for (int i = 0; i < doubles.Count; i++) attr.Float64S.Add(doubles.Float64(i));
        return attr;
    }

    /// <summary>Keys of a (key) vector in strictly increasing byte order, as flatbuffers' binary search needs them.</summary>
    private static void Sorted(string before, string after, string what)
    {
        int order = Utf8Order.Instance.Compare(before, after);
        if (order == 0) throw new MirException($"{what}: '{after}' is listed twice");
        if (order > 0) throw new MirException($"{what}: '{after}' comes after '{before}'; Paddle-Lite finds them by binary search, so they must be sorted by name");
    }
}
