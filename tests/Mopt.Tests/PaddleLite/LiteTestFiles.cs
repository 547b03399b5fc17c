using System.Buffers.Binary;
using Google.FlatBuffers;
using Fbs = paddle.lite.fbs.proto;

namespace Mopt.Tests.PaddleLite;

/// <summary>
/// A .nb taken apart by its framing (what the tests check byte by byte and corrupt), and put together again from a
/// topology and ParamDesc buffers, with any header field overridden: the corrupt files of the reader's tests.
/// </summary>
public sealed record LiteTestFile(byte[] Bytes, int TopologyEnd, ushort Count, uint MaxTensorSize, List<LiteTestFile.Frame> Frames)
{
    /// <summary>One parameter's frame: where its total_size is, where its ParamDesc starts, its length, its name.</summary>
    public sealed record Frame(int At, int Param, int Length, string Name);

    public static LiteTestFile Parse(byte[] bytes)
    {
        int topologyEnd = 26 + checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(18)));
        int at = topologyEnd;
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at)));
        int metaSize = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 2));
        at += 4 + metaSize;
        int headerSize = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at));
        ushort count = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 2));
        uint max = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
        at += 2 + headerSize;
        var frames = new List<Frame>();
        for (int i = 0; i < count; i++)
        {
            uint total = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            uint offset = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
            int param = at + 4 + (int)offset;
            int length = (int)(total - offset);
            var desc = Fbs.ParamDesc.GetRootAsParamDesc(new ByteBuffer(bytes, param));
            frames.Add(new Frame(at, param, length, desc.Name));
            at = param + length;
        }
        Assert.Equal(bytes.Length, at);
        return new LiteTestFile(bytes, topologyEnd, count, max, frames);
    }

    public byte[] Topology => Bytes[26..TopologyEnd];

    public byte[] ParamBytes(Frame f) => Bytes[f.Param..(f.Param + f.Length)];

    /// <summary>A meta_version 2 file of <paramref name="topology"/> and <paramref name="parameters"/>, the header's count and max overridable.</summary>
    public static byte[] Assemble(byte[] topology, IReadOnlyList<byte[]> parameters, ushort? count = null, uint? maxTensorSize = null)
    {
        using var s = new MemoryStream();
        var w = new BinaryWriter(s);
        w.Write((ushort)2);
        var version = new byte[16];
        "test"u8.CopyTo(version);
        w.Write(version);
        w.Write((ulong)topology.Length);
        w.Write(topology);
        w.Write((ushort)0);
        w.Write((ushort)0);
        w.Write((ushort)6);
        w.Write(count ?? (ushort)parameters.Count);
        w.Write(maxTensorSize ?? (uint)(1 << 30));
        foreach (var p in parameters)
        {
            w.Write((uint)p.Length + 4);
            w.Write(4u);
            w.Write(p);
        }
        w.Flush();
        return s.ToArray();
    }

    /// <summary>A ParamDesc flatbuffer built with the flatc-generated builders (FP32 unless told).</summary>
    public static byte[] Param(string name, long[] dims, byte[] data, Fbs.VarType_.Type type = Fbs.VarType_.Type.FP32)
    {
        var b = new FlatBufferBuilder(256 + data.Length);
        var dataVector = Fbs.ParamDesc_.LoDTensorDesc.CreateDataVector(b, (sbyte[])(Array)data);
        var dimVector = Fbs.ParamDesc_.LoDTensorDesc.CreateDimVector(b, dims);
        var tensor = Fbs.ParamDesc_.LoDTensorDesc.CreateLoDTensorDesc(b, 0, default, dimVector, type, dataVector);
        var nameOffset = b.CreateString(name);
        var param = Fbs.ParamDesc.CreateParamDesc(b, default, nameOffset, Fbs.ParamDesc_.VariableDesc.LoDTensorDesc, tensor.Value);
        b.Finish(param.Value);
        return b.SizedByteArray();
    }
}
