using Google.Protobuf;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Onnx.Proto;
using static Mopt.Tests.Onnx.OnnxTestSupport;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Tests.Onnx;

/// <summary>
/// INT4 and UINT4 tensors (ONNX data types 22 and 21) through the reader, the IR and the writer: two elements to a
/// byte, the first in the low nibble, an odd count leaving the last high nibble unused; from raw_data and from
/// int32_data (one packed byte per entry); ONNX Runtime gives the same bits before and after, and the values the
/// IR reads are the ones packed.
/// </summary>
public sealed class OnnxInt4Tests
{
    // 15 elements (5x3, odd): the eighth byte's high nibble is unused.
    private static readonly int[] Signed = [1, -2, 3, 7, -8, 0, -1, 2, 5, 4, 4, -3, 6, -7, 1];
    private static readonly int[] Unsigned = [0, 15, 8, 1, 2, 3, 14, 13, 12, 7, 9, 10, 11, 4, 5];

    private static byte[] PackByHand(int[] values)
    {
        var bytes = new byte[(values.Length + 1) / 2];
        for (int i = 0; i < values.Length; i++) bytes[i / 2] |= (byte)((values[i] & 0xF) << (i % 2 == 0 ? 0 : 4));
        return bytes;
    }

    /// <summary>y = x @ DequantizeLinear(q, scale, zero_point) with blocks of 4 along K = 5 (the last block has one row).</summary>
    private static ModelProto BlockedMatMul(TensorProto q, TensorProto? zeroPoint)
    {
        var scale = FloatTensor("scale", [2, 3], 0.5f, 0.25f, 1f, 2f, 1f, 0.125f);
        var dqInputs = zeroPoint is null ? new[] { "q", "scale" } : ["q", "scale", "zp"];
        var inits = new List<TensorProto> { q, scale };
        if (zeroPoint is not null) inits.Add(zeroPoint);
        var graph = Graph("int4",
            [Node("DequantizeLinear", dqInputs, ["w"], "dq", "", IntAttr("axis", 0), IntAttr("block_size", 4)),
             Node("MatMul", ["x", "w"], ["y"], "mm")],
            [Vi("x", DataType.Float, 2, 5)], [Vi("y", DataType.Float, 2, 3)], inits);
        return Model(graph, opset: 21, irVersion: 10);
    }

    private static List<(string, HostTensor)> Inputs() =>
        [("x", HostTensor.Floats([2, 5], 1f, -2f, 0.5f, 3f, -1.5f, 0.25f, 4f, -3f, 2f, 1f))];

    [Fact]
    public void PackedRawDataRoundTripsAndRunsTheSame()
    {
        var q = new TensorProto { Name = "q", DataType = (int)DataType.Int4, RawData = ByteString.CopyFrom(PackByHand(Signed)) };
        q.Dims.AddRange([5, 3]);
        using var tmp = new TempDir();
        Save(BlockedMatMul(q, null), tmp.File("in.onnx"));
        var text = RoundTrip(tmp.File("in.onnx"), tmp.File("out.onnx"));
        Assert.Contains("dense_resource<q> : tensor<5x3xi4>", text);
        AssertBitIdentical(Run(tmp.File("in.onnx"), Inputs()), Run(tmp.File("out.onnx"), Inputs()));

        var written = Load(tmp.File("out.onnx")).Graph.Initializer.Single(t => t.Name == "q");
        Assert.Equal((int)DataType.Int4, written.DataType);
        Assert.Equal(PackByHand(Signed), written.RawData.ToByteArray());
        Assert.Equal(8, written.RawData.Length);
        Assert.Equal(0, written.RawData[7] >> 4);

        var module = OnnxImporter.ImportFile(tmp.File("out.onnx"));
        var constant = module.AllOperations().Single(o => o.Location.FirstName == "q");
        var values = Constants.TryGet(constant.Result, module)!.ToInt64s();
        Assert.Equal(Signed.Select(v => (long)v), values);
    }

    [Fact]
    public void Int32DataHoldsOnePackedByteEachAndIsWrittenAsRawData()
    {
        var packed = PackByHand(Unsigned);
        var q = new TensorProto { Name = "q", DataType = (int)DataType.Uint4 };
        q.Dims.AddRange([5, 3]);
        q.Int32Data.AddRange(packed.Select(b => (int)b));
        var zp = new TensorProto { Name = "zp", DataType = (int)DataType.Uint4 };
        zp.Dims.AddRange([2, 3]);
        zp.Int32Data.AddRange(PackByHand([8, 8, 7, 8, 9, 8]).Select(b => (int)b));
        using var tmp = new TempDir();
        Save(BlockedMatMul(q, zp), tmp.File("in.onnx"));
        var text = RoundTrip(tmp.File("in.onnx"), tmp.File("out.onnx"));
        Assert.Contains("tensor<5x3xui4>", text);
        AssertBitIdentical(Run(tmp.File("in.onnx"), Inputs()), Run(tmp.File("out.onnx"), Inputs()));
        var module = OnnxImporter.ImportFile(tmp.File("out.onnx"));
        var zeroPoints = module.AllOperations().Single(o => o.Location.FirstName == "zp");
        Assert.Equal([8L, 8, 7, 8, 9, 8], Constants.TryGet(zeroPoints.Result, module)!.ToInt64s());
        var written = Load(tmp.File("out.onnx")).Graph.Initializer.Single(t => t.Name == "q");
        Assert.Equal(packed, written.RawData.ToByteArray());
    }

    [Fact]
    public void Int32DataOfTheWrongLengthNamesTheTensor()
    {
        var q = new TensorProto { Name = "q", DataType = (int)DataType.Int4 };
        q.Dims.AddRange([5, 3]);
        q.Int32Data.AddRange(Enumerable.Repeat(0, 15)); // one entry per element instead of per byte
        using var tmp = new TempDir();
        Save(BlockedMatMul(q, null), tmp.File("in.onnx"));
        var e = Assert.Throws<MirException>(() => OnnxImporter.ImportFile(tmp.File("in.onnx")));
        Assert.Contains("initializer 'q' has 15 values but its shape needs 8 (two i4 elements each)", e.Message);
    }
}
