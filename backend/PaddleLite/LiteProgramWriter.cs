using System.Text;
using Google.FlatBuffers;
using Mopt.Dialects.Paddle;
using Mopt.Ir;
using Mopt.Paddle.Proto;
using Fbs = paddle.lite.fbs.proto;

namespace Mopt.Backend.PaddleLite;

/// <summary>
/// A framework.proto ProgramDesc → the framework.fbs ProgramDesc flatbuffer of a .nb's topology (the flatc-generated
/// builders of frontend/Schemas/PaddleLite), field for field: a field is written exactly where the message has it (so a
/// LoD level 0 or an is_target false stays, as the importer tells them from absent ones). Each op's input and output
/// slots and attributes, and the op_version_map, are sorted by name, byte-wise, as flatbuffers' <c>LookupByKey</c>
/// (Paddle-Lite's way to find a slot or an attribute) needs; the vars keep their order, as opt's do. What framework.fbs cannot
/// hold is an error naming it: SCALAR, SCALARS, VAR and VARS attributes, and element types past INT8 (BF16, ...).
/// </summary>
public static class LiteProgramWriter
{
    /// <summary>The element codes framework.fbs's VarType_.Type has (the same numbers as framework.proto's).</summary>
    public static bool IsLiteElement(int code) => code is >= 0 and <= 6 or 20 or 21;

    public static byte[] Write(ProgramDesc program, string what)
    {
        var builder = new FlatBufferBuilder(64 * 1024) { ForceDefaults = true };
        var blocks = program.Blocks.Select(b => Block(builder, b, what)).ToArray();
        var blocksVector = Fbs.ProgramDesc.CreateBlocksVector(builder, blocks);
        Offset<Fbs.Version> version = default;
        if (program.Version is { } v) version = Fbs.Version.CreateVersion(builder, v.Version_);
        Offset<Fbs.OpVersionMap> map = default;
        if (program.OpVersionMap is { } m)
        {
            var pairs = m.Pair.OrderBy(p => p.OpName, Utf8Order.Instance).Select(p =>
            {
                var name = builder.CreateString(p.OpName);
                var opVersion = Fbs.OpVersion.CreateOpVersion(builder, p.OpVersion?.Version ?? 0);
                return Fbs.OpVersionMap_.OpVersionPair.CreateOpVersionPair(builder, name, opVersion);
            }).ToArray();
            map = Fbs.OpVersionMap.CreateOpVersionMap(builder, Fbs.OpVersionMap.CreatePairVector(builder, pairs));
        }
        Fbs.ProgramDesc.StartProgramDesc(builder);
        Fbs.ProgramDesc.AddBlocks(builder, blocksVector);
        if (program.Version is not null) Fbs.ProgramDesc.AddVersion(builder, version);
        if (program.OpVersionMap is not null) Fbs.ProgramDesc.AddOpVersionMap(builder, map);
        Fbs.ProgramDesc.FinishProgramDescBuffer(builder, Fbs.ProgramDesc.EndProgramDesc(builder));
        return builder.SizedByteArray();
    }

    private static Offset<Fbs.BlockDesc> Block(FlatBufferBuilder builder, BlockDesc block, string what)
    {
        // vars in program order, as opt writes them (Lite reads them by index; the six real files' are not sorted)
        var vars = block.Vars.Select(v => Var(builder, v, $"{what}: var '{v.Name}'")).ToArray();
        var varsVector = Fbs.BlockDesc.CreateVarsVector(builder, vars);
        var ops = block.Ops.Select((op, i) => Op(builder, op, $"{what}: block {block.Idx} op {i} ({op.Type})")).ToArray();
        var opsVector = Fbs.BlockDesc.CreateOpsVector(builder, ops);
        Fbs.BlockDesc.StartBlockDesc(builder);
        Fbs.BlockDesc.AddIdx(builder, block.Idx);
        Fbs.BlockDesc.AddParentIdx(builder, block.ParentIdx);
        Fbs.BlockDesc.AddVars(builder, varsVector);
        Fbs.BlockDesc.AddOps(builder, opsVector);
        if (block.HasForwardBlockIdx) Fbs.BlockDesc.AddForwardBlockIdx(builder, block.ForwardBlockIdx);
        return Fbs.BlockDesc.EndBlockDesc(builder);
    }

    private static Offset<Fbs.VarDesc> Var(FlatBufferBuilder builder, VarDesc var, string what)
    {
        var name = builder.CreateString(var.Name);
        var type = VarType(builder, var.Type ?? new VarType(), what);
        Fbs.VarDesc.StartVarDesc(builder);
        Fbs.VarDesc.AddName(builder, name);
        Fbs.VarDesc.AddType(builder, type);
        if (var.HasPersistable) Fbs.VarDesc.AddPersistable(builder, var.Persistable);
        if (var.HasNeedCheckFeed) Fbs.VarDesc.AddNeedCheckFeed(builder, var.NeedCheckFeed);
        return Fbs.VarDesc.EndVarDesc(builder);
    }

    private static Offset<Fbs.VarType> VarType(FlatBufferBuilder builder, VarType type, string what)
    {
        int kind = (int)type.Type;
        if (kind is < 0 or > 21 or 16) throw new MirException($"{what}: var type {type.Type} has no framework.fbs form");
        Offset<Fbs.VarType_.TensorDesc> rows = type.SelectedRows is { } r ? Tensor(builder, r, what) : default;
        Offset<Fbs.VarType_.LoDTensorDesc> lod = type.LodTensor is { } l ? LodTensor(builder, l, what) : default;
        Offset<Fbs.VarType_.LoDTensorArrayDesc> array = default;
        if (type.TensorArray is { } a)
        {
            var tensor = Tensor(builder, a.Tensor, what);
            Fbs.VarType_.LoDTensorArrayDesc.StartLoDTensorArrayDesc(builder);
            Fbs.VarType_.LoDTensorArrayDesc.AddTensor(builder, tensor);
            if (a.HasLodLevel) Fbs.VarType_.LoDTensorArrayDesc.AddLodLevel(builder, a.LodLevel);
            array = Fbs.VarType_.LoDTensorArrayDesc.EndLoDTensorArrayDesc(builder);
        }
        Offset<Fbs.VarType_.ReaderDesc> reader = default;
        if (type.Reader is { } rd)
            reader = Fbs.VarType_.ReaderDesc.CreateReaderDesc(builder, Fbs.VarType_.ReaderDesc.CreateLodTensorVector(builder, rd.LodTensor.Select(t => LodTensor(builder, t, what)).ToArray()));
        Offset<Fbs.VarType_.Tuple> tuple = default;
        if (type.Tuple is { } tp)
            tuple = Fbs.VarType_.Tuple.CreateTuple(builder, Fbs.VarType_.Tuple.CreateElementTypeVector(builder, tp.ElementType.Select(e => (Fbs.VarType_.Type)(int)e).ToArray()));
        Fbs.VarType.StartVarType(builder);
        Fbs.VarType.AddType(builder, (Fbs.VarType_.Type)kind);
        if (type.SelectedRows is not null) Fbs.VarType.AddSelectedRows(builder, rows);
        if (type.LodTensor is not null) Fbs.VarType.AddLodTensor(builder, lod);
        if (type.TensorArray is not null) Fbs.VarType.AddTensorArray(builder, array);
        if (type.Reader is not null) Fbs.VarType.AddReader(builder, reader);
        if (type.Tuple is not null) Fbs.VarType.AddTuple(builder, tuple);
        return Fbs.VarType.EndVarType(builder);
    }

    private static Offset<Fbs.VarType_.LoDTensorDesc> LodTensor(FlatBufferBuilder builder, VarType.Types.LoDTensorDesc desc, string what)
    {
        var tensor = Tensor(builder, desc.Tensor ?? new VarType.Types.TensorDesc(), what);
        Fbs.VarType_.LoDTensorDesc.StartLoDTensorDesc(builder);
        Fbs.VarType_.LoDTensorDesc.AddTensor(builder, tensor);
        if (desc.HasLodLevel) Fbs.VarType_.LoDTensorDesc.AddLodLevel(builder, desc.LodLevel);
        return Fbs.VarType_.LoDTensorDesc.EndLoDTensorDesc(builder);
    }

    private static Offset<Fbs.VarType_.TensorDesc> Tensor(FlatBufferBuilder builder, VarType.Types.TensorDesc desc, string what)
    {
        int code = (int)desc.DataType;
        if (!IsLiteElement(code)) throw new MirException($"{what}: element type {PaddleDataTypes.Name(code)} has no framework.fbs form (a .nb holds BOOL..FP64, UINT8 and INT8)");
        var dims = Fbs.VarType_.TensorDesc.CreateDimsVector(builder, desc.Dims.ToArray());
        return Fbs.VarType_.TensorDesc.CreateTensorDesc(builder, (Fbs.VarType_.Type)code, dims);
    }

    private static Offset<Fbs.OpDesc> Op(FlatBufferBuilder builder, OpDesc op, string what)
    {
        var type = builder.CreateString(op.Type);
        var inputs = Fbs.OpDesc.CreateInputsVector(builder, Slots(builder, op.Inputs, what));
        var outputs = Fbs.OpDesc.CreateOutputsVector(builder, Slots(builder, op.Outputs, what));
        var attrs = Fbs.OpDesc.CreateAttrsVector(builder, op.Attrs.OrderBy(a => a.Name, Utf8Order.Instance).Select(a => Attr(builder, a, what)).ToArray());
        Fbs.OpDesc.StartOpDesc(builder);
        Fbs.OpDesc.AddType(builder, type);
        Fbs.OpDesc.AddInputs(builder, inputs);
        Fbs.OpDesc.AddOutputs(builder, outputs);
        Fbs.OpDesc.AddAttrs(builder, attrs);
        if (op.HasIsTarget) Fbs.OpDesc.AddIsTarget(builder, op.IsTarget);
        return Fbs.OpDesc.EndOpDesc(builder);
    }

    private static Offset<Fbs.OpDesc_.Var>[] Slots(FlatBufferBuilder builder, IEnumerable<OpDesc.Types.Var> slots, string what)
    {
        var sorted = slots.OrderBy(s => s.Parameter, Utf8Order.Instance).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Parameter == sorted[i - 1].Parameter) throw new MirException($"{what}: slot {sorted[i].Parameter} is listed twice");
        return sorted.Select(s =>
        {
            var parameter = builder.CreateString(s.Parameter);
            var arguments = Fbs.OpDesc_.Var.CreateArgumentsVector(builder, s.Arguments.Select(builder.CreateString).ToArray());
            return Fbs.OpDesc_.Var.CreateVar(builder, parameter, arguments);
        }).ToArray();
    }

    private static Offset<Fbs.OpDesc_.Attr> Attr(FlatBufferBuilder builder, OpDesc.Types.Attr a, string what)
    {
        if (a.Type is AttrType.Scalar or AttrType.Scalars or AttrType.Var or AttrType.Vars)
            throw new MirException($"{what}: attribute '{a.Name}' is a {a.Type} attribute, which framework.fbs (the .nb schema) cannot hold");
        var name = builder.CreateString(a.Name);
        StringOffset s = a.HasS ? builder.CreateString(a.S) : default;
        // a list attribute always has its vector, even an empty one: Paddle-Lite reads the vector of the attribute's type
        VectorOffset ints = a.Ints.Count > 0 || a.Type == AttrType.Ints ? Fbs.OpDesc_.Attr.CreateIntsVector(builder, a.Ints.ToArray()) : default;
        VectorOffset floats = a.Floats.Count > 0 || a.Type == AttrType.Floats ? Fbs.OpDesc_.Attr.CreateFloatsVector(builder, a.Floats.ToArray()) : default;
        VectorOffset strings = a.Strings.Count > 0 || a.Type == AttrType.Strings ? Fbs.OpDesc_.Attr.CreateStringsVector(builder, a.Strings.Select(builder.CreateString).ToArray()) : default;
        VectorOffset bools = a.Bools.Count > 0 || a.Type == AttrType.Booleans ? Fbs.OpDesc_.Attr.CreateBoolsVector(builder, a.Bools.ToArray()) : default;
        VectorOffset blocks = a.BlocksIdx.Count > 0 || a.Type == AttrType.Blocks ? Fbs.OpDesc_.Attr.CreateBlocksIdxVector(builder, a.BlocksIdx.ToArray()) : default;
        VectorOffset longs = a.Longs.Count > 0 || a.Type == AttrType.Longs ? Fbs.OpDesc_.Attr.CreateLongsVector(builder, a.Longs.ToArray()) : default;
        VectorOffset doubles = a.Float64S.Count > 0 || a.Type == AttrType.Float64S ? Fbs.OpDesc_.Attr.CreateFloat64sVector(builder, a.Float64S.ToArray()) : default;
        Fbs.OpDesc_.Attr.StartAttr(builder);
        Fbs.OpDesc_.Attr.AddName(builder, name);
        Fbs.OpDesc_.Attr.AddType(builder, (Fbs.AttrType)(int)a.Type);
        if (a.HasI) Fbs.OpDesc_.Attr.AddI(builder, a.I);
        if (a.HasF) Fbs.OpDesc_.Attr.AddF(builder, a.F);
        if (a.HasS) Fbs.OpDesc_.Attr.AddS(builder, s);
        if (ints.Value != 0) Fbs.OpDesc_.Attr.AddInts(builder, ints);
        if (floats.Value != 0) Fbs.OpDesc_.Attr.AddFloats(builder, floats);
        if (strings.Value != 0) Fbs.OpDesc_.Attr.AddStrings(builder, strings);
        if (a.HasB) Fbs.OpDesc_.Attr.AddB(builder, a.B);
        if (bools.Value != 0) Fbs.OpDesc_.Attr.AddBools(builder, bools);
        if (a.HasBlockIdx) Fbs.OpDesc_.Attr.AddBlockIdx(builder, a.BlockIdx);
        if (a.HasL) Fbs.OpDesc_.Attr.AddL(builder, a.L);
        if (blocks.Value != 0) Fbs.OpDesc_.Attr.AddBlocksIdx(builder, blocks);
        if (longs.Value != 0) Fbs.OpDesc_.Attr.AddLongs(builder, longs);
        if (a.HasFloat64) Fbs.OpDesc_.Attr.AddFloat64(builder, a.Float64);
        if (doubles.Value != 0) Fbs.OpDesc_.Attr.AddFloat64s(builder, doubles);
        return Fbs.OpDesc_.Attr.EndAttr(builder);
    }
}
