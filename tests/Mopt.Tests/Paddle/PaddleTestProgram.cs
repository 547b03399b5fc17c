using Google.Protobuf;
using Mopt.Paddle.Proto;

namespace Mopt.Tests.Paddle;

/// <summary>
/// A Paddle program written the way Paddle 2.x's <c>save_inference_model</c> writes one (feed ops first with <c>col</c>,
/// fetch ops last, slots sorted by name, persistable parameters in a combined file in sorted-name order), for tests.
/// </summary>
internal sealed class PaddleTestProgram
{
    public ProgramDesc Program { get; } = new() { Version = new Mopt.Paddle.Proto.Version { Version_ = 2004002 } };
    private BlockDesc Block => Program.Blocks[0];
    private readonly SortedDictionary<string, byte[]> _parameters = new(StringComparer.Ordinal);
    private int _feeds, _fetches;

    public PaddleTestProgram()
    {
        Program.Blocks.Add(new BlockDesc { Idx = 0, ParentIdx = -1 });
        Block.Vars.Add(new VarDesc { Name = "feed", Type = new VarType { Type = VarType.Types.Type.FeedMinibatch }, Persistable = true });
        Block.Vars.Add(new VarDesc { Name = "fetch", Type = new VarType { Type = VarType.Types.Type.FetchList }, Persistable = true });
    }

    public PaddleTestProgram Var(string name, long[] dims, bool persistable = false, VarType.Types.Type element = VarType.Types.Type.Fp32)
    {
        var tensor = new VarType.Types.TensorDesc { DataType = element };
        tensor.Dims.AddRange(dims);
        var lod = new VarType.Types.LoDTensorDesc { Tensor = tensor };
        if (!persistable) lod.LodLevel = 0;
        Block.Vars.Add(new VarDesc { Name = name, Type = new VarType { Type = VarType.Types.Type.LodTensor, LodTensor = lod }, Persistable = persistable });
        return this;
    }

    /// <summary>A persistable f32 var with its values.</summary>
    public PaddleTestProgram Parameter(string name, long[] dims, float[] values)
    {
        Var(name, dims, persistable: true);
        var data = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, data, 0, data.Length);
        _parameters[name] = PaddleModelFilesTests.Record(VarType.Types.Type.Fp32, dims, data);
        return this;
    }

    public PaddleTestProgram Feed(string name, long[] dims)
    {
        Var(name, dims);
        Block.Ops.Insert(_feeds, Op("feed", [("X", ["feed"])], [("Out", [name])], A.Int("col", _feeds)));
        _feeds++;
        return this;
    }

    public PaddleTestProgram Fetch(string name)
    {
        Block.Ops.Add(Op("fetch", [("X", [name])], [("Out", ["fetch"])], A.Int("col", _fetches++)));
        return this;
    }

    /// <summary>An op before the fetch ops; slots are sorted by name as Paddle writes them.</summary>
    public PaddleTestProgram Add(string type, (string Slot, string[] Args)[] inputs, (string Slot, string[] Args)[] outputs, params OpDesc.Types.Attr[] attrs)
    {
        Block.Ops.Insert(Block.Ops.Count - _fetches, Op(type, inputs, outputs, attrs));
        return this;
    }

    public static OpDesc Op(string type, (string Slot, string[] Args)[] inputs, (string Slot, string[] Args)[] outputs, params OpDesc.Types.Attr[] attrs)
    {
        var op = new OpDesc { Type = type };
        foreach (var (slot, args) in inputs.OrderBy(i => i.Slot, StringComparer.Ordinal))
        {
            var v = new OpDesc.Types.Var { Parameter = slot };
            v.Arguments.AddRange(args);
            op.Inputs.Add(v);
        }
        foreach (var (slot, args) in outputs.OrderBy(i => i.Slot, StringComparer.Ordinal))
        {
            var v = new OpDesc.Types.Var { Parameter = slot };
            v.Arguments.AddRange(args);
            op.Outputs.Add(v);
        }
        op.Attrs.AddRange(attrs);
        return op;
    }

    /// <summary>Writes <c>NAME.pdmodel</c> and <c>NAME.pdiparams</c> into <paramref name="dir"/>; returns the .pdmodel's path.</summary>
    public string Write(string dir, string name = "model")
    {
        var model = Path.Combine(dir, name + ".pdmodel");
        File.WriteAllBytes(model, Program.ToByteArray());
        if (_parameters.Count > 0) File.WriteAllBytes(Path.Combine(dir, name + ".pdiparams"), _parameters.Values.SelectMany(b => b).ToArray());
        return model;
    }

    /// <summary>Attributes of each AttrType.</summary>
    public static class A
    {
        public static OpDesc.Types.Attr Int(string name, int v) => new() { Name = name, Type = AttrType.Int, I = v };
        public static OpDesc.Types.Attr Long(string name, long v) => new() { Name = name, Type = AttrType.Long, L = v };
        public static OpDesc.Types.Attr Float(string name, float v) => new() { Name = name, Type = AttrType.Float, F = v };
        public static OpDesc.Types.Attr Float64(string name, double v) => new() { Name = name, Type = AttrType.Float64, Float64 = v };
        public static OpDesc.Types.Attr Bool(string name, bool v) => new() { Name = name, Type = AttrType.Boolean, B = v };
        public static OpDesc.Types.Attr String(string name, string v) => new() { Name = name, Type = AttrType.String, S = v };
        public static OpDesc.Types.Attr Ints(string name, params int[] v) { var a = new OpDesc.Types.Attr { Name = name, Type = AttrType.Ints }; a.Ints.AddRange(v); return a; }
        public static OpDesc.Types.Attr Longs(string name, params long[] v) { var a = new OpDesc.Types.Attr { Name = name, Type = AttrType.Longs }; a.Longs.AddRange(v); return a; }
        public static OpDesc.Types.Attr Floats(string name, params float[] v) { var a = new OpDesc.Types.Attr { Name = name, Type = AttrType.Floats }; a.Floats.AddRange(v); return a; }
        public static OpDesc.Types.Attr Float64s(string name, params double[] v) { var a = new OpDesc.Types.Attr { Name = name, Type = AttrType.Float64S }; a.Float64S.AddRange(v); return a; }
        public static OpDesc.Types.Attr Bools(string name, params bool[] v) { var a = new OpDesc.Types.Attr { Name = name, Type = AttrType.Booleans }; a.Bools.AddRange(v); return a; }
        public static OpDesc.Types.Attr Strings(string name, params string[] v) { var a = new OpDesc.Types.Attr { Name = name, Type = AttrType.Strings }; a.Strings.AddRange(v); return a; }
    }
}
