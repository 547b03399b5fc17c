using System.Buffers.Binary;
using Mopt.Dialects.Paddle;
using Mopt.Ir;
using Mopt.Paddle.Proto;

namespace Mopt.Frontend.Paddle;

/// <summary>
/// One tensor as Paddle saves a parameter (a LoDTensor record; docs/formats/paddle.md): uint32 version 0, uint64 LoD
/// level count and per level a uint64 byte size and its offsets, uint32 tensor version 0, int32 size of the TensorDesc,
/// the TensorDesc (element type, dims), then the elements, row-major, little-endian. A parameter file holds one record; a
/// combined file (<c>__params__</c>, <c>.pdiparams</c>) holds one per persistable var, back to back in sorted-name order.
/// </summary>
public sealed record PaddleTensorRecord(TensorType Type, ReadOnlyMemory<byte> Data)
{
    /// <summary>
    /// The record at <paramref name="offset"/> of <paramref name="bytes"/> (the data a slice of them, not a copy), and the
    /// offset after it. <paramref name="what"/> names it in errors (<c>'fc_0.w_0' in model.pdiparams</c>).
    /// </summary>
    public static PaddleTensorRecord Read(ReadOnlyMemory<byte> bytes, ref int offset, string what)
    {
        var span = bytes.Span;
        int at = offset;
        uint version = ReadUInt32(span, ref at, what, "its version");
        if (version != 0) throw new MirException($"{what}: LoDTensor version {version}; Paddle writes only version 0");
        ulong levels = ReadUInt64(span, ref at, what, "its LoD level count");
        if (levels > 64) throw new MirException($"{what}: {levels} LoD levels is not a tensor record (a parameter has none)");
        for (ulong i = 0; i < levels; i++)
        {
            ulong size = ReadUInt64(span, ref at, what, "a LoD level's size");
            if (size % 8 != 0 || size > (ulong)(span.Length - at))
                throw new MirException($"{what}: LoD level {i} claims {size} bytes, {(size % 8 != 0 ? "not a multiple of 8" : $"but {span.Length - at} remain")}");
            at += (int)size;
        }
        uint tensorVersion = ReadUInt32(span, ref at, what, "its tensor version");
        if (tensorVersion != 0) throw new MirException($"{what}: tensor version {tensorVersion}; Paddle writes only version 0");
        int descSize = ReadInt32(span, ref at, what, "its TensorDesc size");
        if (descSize < 0 || descSize > span.Length - at)
            throw new MirException($"{what}: the TensorDesc claims {descSize} bytes, but {span.Length - at} remain (truncated or not a parameter file)");
        VarType.Types.TensorDesc desc;
        try { desc = VarType.Types.TensorDesc.Parser.ParseFrom(span.Slice(at, descSize)); }
        catch (Google.Protobuf.InvalidProtocolBufferException e) { throw new MirException($"{what}: its TensorDesc is not valid protobuf ({e.Message})"); }
        at += descSize;
        var element = PaddleDataTypes.Element((int)desc.DataType)
            ?? throw new MirException($"{what}: element type {PaddleDataTypes.Name((int)desc.DataType)} is not one mopt reads");
        var dims = new long[desc.Dims.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = desc.Dims[i];
            if (dims[i] < 0) throw new MirException($"{what}: dimension {i} is {dims[i]}; a saved tensor has every size");
        }
        var type = new TensorType(element, dims);
        long byteSize = type.ByteSize ?? 0;
        if (byteSize > span.Length - at)
            throw new MirException($"{what}: {PaddleDataTypes.Name((int)desc.DataType)} [{string.Join(",", dims)}] needs {byteSize} bytes of data, but {span.Length - at} remain (truncated)");
        var data = bytes.Slice(at, (int)byteSize);
        offset = at + (int)byteSize;
        return new PaddleTensorRecord(type, data);
    }

    private static uint ReadUInt32(ReadOnlySpan<byte> span, ref int at, string what, string field)
    {
        if (span.Length - at < 4) throw Truncated(what, field);
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(span[at..]);
        at += 4;
        return v;
    }

    private static int ReadInt32(ReadOnlySpan<byte> span, ref int at, string what, string field) => unchecked((int)ReadUInt32(span, ref at, what, field));

    private static ulong ReadUInt64(ReadOnlySpan<byte> span, ref int at, string what, string field)
    {
        if (span.Length - at < 8) throw Truncated(what, field);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(span[at..]);
        at += 8;
        return v;
    }

    private static MirException Truncated(string what, string field) => new($"{what}: the file ends before {field} (truncated)");
}
