using System.Buffers.Binary;
using System.Text;
using Google.FlatBuffers;
using Mopt.Frontend.Paddle;
using Mopt.Frontend.PaddleLite;
using Mopt.Ir;
using Mopt.Tests.Onnx;
using Mopt.Tests.Paddle;
using Fbs = paddle.lite.fbs.proto;

namespace Mopt.Tests.PaddleLite;

/// <summary>
/// Issue 14 item 5: the Paddle-Lite .nb (meta_version 2) mopt-opt writes: its header, topology and parameter framing
/// byte by byte (and read back with the flatc-generated accessors, an independent reader: every slot and attribute found
/// by LookupByKey's binary search), the IR it re-imports to (the .pdmodel route's), its outputs in ONNX Runtime, and each
/// check of the reader on a corrupted file.
/// </summary>
public sealed class LiteModelTests
{
    private static string Opt(params string[] args)
    {
        var (exit, stdout, stderr) = Mir.Opt(args);
        Assert.True(exit == 0, $"mopt-opt {string.Join(" ", args)}: {stderr}");
        return stdout;
    }

    private static int Compare(string a, string b) => Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));

    [Fact]
    public void HeaderTopologyAndFramingAreWhatPaddleLiteReads()
    {
        using var dir = new TempDir();
        Opt(Mir.ExamplePath, "-o", dir.File("m.nb"));
        Opt(Mir.ExamplePath, "-o", dir.File("m.pdmodel"));
        var bytes = File.ReadAllBytes(dir.File("m.nb"));
        var pd = PaddleModelFiles.Read(dir.File("m.pdmodel"));

        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(bytes));
        var version = bytes.AsSpan(2, 16);
        int nul = version.IndexOf((byte)0);
        Assert.Equal(Mopt.Backend.PaddleLite.LiteModelWriter.OptVersion, Encoding.ASCII.GetString(version[..nul]));
        Assert.True(version[nul..].IndexOfAnyExcept((byte)0) < 0, "opt_version is NUL-padded");
        var file = LiteTestFile.Parse(bytes);

        // the topology through flatc's generated accessors: the program the .pdmodel holds, keys findable by binary search
        var program = Fbs.ProgramDesc.GetRootAsProgramDesc(new ByteBuffer(bytes, 26));
        Assert.Equal(1, program.BlocksLength);
        var block = program.Blocks(0)!.Value;
        var expected = pd.Program.Blocks[0];
        Assert.Equal(expected.Ops.Count, block.OpsLength);
        for (int i = 0; i < block.OpsLength; i++)
        {
            var op = block.Ops(i)!.Value;
            Assert.Equal(expected.Ops[i].Type, op.Type);
            foreach (var slot in expected.Ops[i].Inputs)
                Assert.Equal(slot.Arguments, Enumerable.Range(0, op.InputsByKey(slot.Parameter)!.Value.ArgumentsLength).Select(a => op.InputsByKey(slot.Parameter)!.Value.Arguments(a)));
            foreach (var slot in expected.Ops[i].Outputs)
                Assert.NotNull(op.OutputsByKey(slot.Parameter));
            foreach (var attr in expected.Ops[i].Attrs)
                Assert.Equal((int)attr.Type, (int)op.AttrsByKey(attr.Name)!.Value.Type);
            for (int a = 1; a < op.AttrsLength; a++) Assert.True(Compare(op.Attrs(a - 1)!.Value.Name, op.Attrs(a)!.Value.Name) < 0);
        }
        Assert.Equal(expected.Vars.Select(v => v.Name), Enumerable.Range(0, block.VarsLength).Select(v => block.Vars(v)!.Value.Name));

        // the parameters: every persistable var, sorted byte-wise, framed as Paddle-Lite's ParamSerializer frames them
        Assert.Equal(pd.Parameters.Keys.Order(StringComparer.Ordinal), file.Frames.Select(f => f.Name));
        Assert.Equal((uint)pd.Parameters.Values.Max(p => p.Data.Length), file.MaxTensorSize);
        foreach (var frame in file.Frames)
        {
            Assert.Equal((uint)frame.Length + 4, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(frame.At)));
            Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(frame.At + 4)));
            var param = Fbs.ParamDesc.GetRootAsParamDesc(new ByteBuffer(file.ParamBytes(frame)));
            Assert.Equal(Fbs.ParamDesc_.VariableDesc.LoDTensorDesc, param.VariableType);
            Assert.Null(param.Version);
            var tensor = param.Variable<Fbs.ParamDesc_.LoDTensorDesc>()!.Value;
            var record = pd.Parameters[frame.Name];
            Assert.Equal(record.Type.Shape!, tensor.GetDimArray());
            Assert.Equal(Fbs.VarType_.Type.FP32, tensor.DataType);
            Assert.Equal(record.Data.ToArray(), (byte[])(Array)tensor.GetDataArray());
        }
        for (int i = 1; i < file.Frames.Count; i++) Assert.True(Compare(file.Frames[i - 1].Name, file.Frames[i].Name) < 0);
    }

    [Fact]
    public void ExampleReimportsAsThePdmodelDoesAndKeepsItsOutputs()
    {
        using var dir = new TempDir();
        Opt(Mir.ExamplePath, "-o", dir.File("m.nb"));
        Opt(Mir.ExamplePath, "-o", dir.File("m.pdmodel"));
        Assert.Equal(Opt(dir.File("m.pdmodel")), Opt(dir.File("m.nb")));
        // written again from its own import: the same IR (the vars may come in another order: the constants are first now)
        Opt(dir.File("m.nb"), "-o", dir.File("again.nb"));
        Assert.Equal(Opt(dir.File("m.nb")), Opt(dir.File("again.nb")));

        Opt(Mir.ExamplePath, "-o", dir.File("original.onnx"));
        Opt(dir.File("m.nb"), "-o", dir.File("back.onnx"));
        var inputs = new List<(string, HostTensor)> { ("input", new HostTensor(1, [1, 3, 16, 16], PaddleLoweringCheck.Values(4, 3 * 16 * 16).SelectMany(BitConverter.GetBytes).ToArray())) };
        var expected = OnnxTestSupport.Run(dir.File("original.onnx"), inputs);
        var actual = OnnxTestSupport.Run(dir.File("back.onnx"), inputs);
        Assert.True(OnnxTestSupport.MaxAbsDiff(expected[0].Value, actual[0].Value) <= 1e-6f);
    }

    [Fact]
    public void MetaVersionOneReadsItsCombinedParameters()
    {
        using var dir = new TempDir();
        var file = Example(dir);
        // the same topology and parameters, the parameters as one CombinedParamsDesc (what opt wrote under PADDLE_LITE_MODEL_VERSION1)
        var b = new FlatBufferBuilder(1 << 16);
        var parameters = file.Frames.Select(f =>
        {
            var tensor = Fbs.ParamDesc.GetRootAsParamDesc(new ByteBuffer(file.ParamBytes(f))).Variable<Fbs.ParamDesc_.LoDTensorDesc>()!.Value;
            var data = Fbs.ParamDesc_.LoDTensorDesc.CreateDataVector(b, tensor.GetDataArray());
            var dims = Fbs.ParamDesc_.LoDTensorDesc.CreateDimVector(b, tensor.GetDimArray());
            var variable = Fbs.ParamDesc_.LoDTensorDesc.CreateLoDTensorDesc(b, 0, default, dims, tensor.DataType, data);
            return Fbs.ParamDesc.CreateParamDesc(b, default, b.CreateString(f.Name), Fbs.ParamDesc_.VariableDesc.LoDTensorDesc, variable.Value);
        }).ToArray();
        b.Finish(Fbs.CombinedParamsDesc.CreateCombinedParamsDesc(b, Fbs.CombinedParamsDesc.CreateParamsVector(b, parameters)).Value);
        byte[] v1 = [.. file.Bytes[..file.TopologyEnd], .. b.SizedByteArray()];
        v1[0] = 1;
        File.WriteAllBytes(dir.File("v1.nb"), v1);
        var read = LiteModelFile.Read(dir.File("v1.nb"));
        var v2 = LiteModelFile.Read(dir.File("m.nb"));
        Assert.Equal(v2.Parameters.Keys.Order(StringComparer.Ordinal), read.Parameters.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, record) in v2.Parameters) Assert.Equal(record.Data.ToArray(), read.Parameters[name].Data.ToArray());
        Assert.Equal(Opt(dir.File("m.nb")), Opt(dir.File("v1.nb")));
        Fails(With(v1, x => BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(file.TopologyEnd), 0x7FFF_0000)), "the parameters (CombinedParamsDesc at byte");
    }

    private static LiteTestFile Example(TempDir dir)
    {
        Opt(Mir.ExamplePath, "-o", dir.File("m.nb"));
        return LiteTestFile.Parse(File.ReadAllBytes(dir.File("m.nb")));
    }

    private static void Fails(byte[] bytes, string expected)
    {
        var e = Assert.Throws<MirException>(() => LiteModelFile.Read(bytes, "bad.nb"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("bad.nb: ", e.Message);
    }

    private static byte[] With(byte[] bytes, Action<byte[]> change)
    {
        var copy = (byte[])bytes.Clone();
        change(copy);
        return copy;
    }

    [Fact]
    public void CorruptHeadersAndFramingAreEachNamed()
    {
        using var dir = new TempDir();
        var file = Example(dir);
        var b = file.Bytes;
        Fails(b[..1], "too short for a Paddle-Lite model");
        Fails(b[..10], "inside its header");
        Fails(With(b, x => x[0] = 0), "meta_version 0: the naive-buffer model");
        Fails(With(b, x => x[0] = 3), "meta_version 3 is not a Paddle-Lite model version");
        Fails(With(b, x => x.AsSpan(2, 16).Fill((byte)'v')), "opt_version (bytes 2..18) has no NUL");
        Fails(b[..(file.TopologyEnd - 5)], "topo_size is");
        Fails(With(b, x => BinaryPrimitives.WriteUInt64LittleEndian(x.AsSpan(18), (ulong)x.Length)), "topo_size is");
        Fails(b[..(file.TopologyEnd + 3)], "before the parameters' meta_size (truncated)");
        Fails(With(b, x => x[file.TopologyEnd] = 1), "the parameters' version (byte");
        Fails(With(b, x => x[file.TopologyEnd + 4] = 4), "header_size (byte");
        var last = file.Frames[^1];
        Fails(b[..(last.Param + last.Length / 2)], "remain (truncated)");
        Fails(b[..(last.At + 6)], "before parameter");
        Fails(With(b, x => BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(last.At + 4), 2)), "offset 2 with total_size");
        Fails([.. b, 0], "1 bytes follow the last of the");
        Fails(With(b, x => BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(file.TopologyEnd + 8), 16)), "more than the header's max_tensor_size 16");
    }

    [Fact]
    public void CorruptFlatbuffersAreNamedWithThePathToTheField()
    {
        using var dir = new TempDir();
        var file = Example(dir);
        var b = file.Bytes;
        Fails(With(b, x => BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(26), 0x7FFF_0000)), "the root offset of the ProgramDesc at byte 0 points to byte");
        Fails(With(b, x => BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(26), 1)), "is not aligned to 4 bytes");
        // an op's type string given a length past the end: the path names the op's place
        var conv = Encoding.ASCII.GetBytes("conv2d\0");
        int at = b.AsSpan(26, file.TopologyEnd - 26).IndexOf((ReadOnlySpan<byte>)[6, 0, 0, 0, .. conv]) + 26;
        Assert.True(at > 26);
        Fails(With(b, x => BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(at), 0x00FF_FFFF)), "blocks[0].ops[");
        // a parameter's name whose NUL is gone
        var first = file.Frames[0];
        var name = Encoding.UTF8.GetBytes(first.Name);
        int nameAt = b.AsSpan(first.Param, first.Length).IndexOf((ReadOnlySpan<byte>)[.. name, 0]) + first.Param;
        Fails(With(b, x => x[nameAt + name.Length] = (byte)'x'), "ParamDesc.name");
    }

    [Fact]
    public void ParametersOutOfOrderOrNotThoseOfTheProgramAreNamed()
    {
        using var dir = new TempDir();
        var file = Example(dir);
        var parameters = file.Frames.Select(file.ParamBytes).ToList();
        var names = file.Frames.Select(f => f.Name).ToList();
        var topology = file.Topology;
        // the file as it is reads
        LiteModelFile.Read(LiteTestFile.Assemble(topology, parameters), "bad.nb");

        Fails(LiteTestFile.Assemble(topology, [parameters[1], parameters[0], .. parameters.Skip(2)]), $"parameter '{names[0]}' comes after '{names[1]}'");
        Fails(LiteTestFile.Assemble(topology, [parameters[0], .. parameters]), $"parameter '{names[0]}' is stored twice");
        Fails(LiteTestFile.Assemble(topology, parameters.Skip(1).ToList()), $"var '{names[0]}' is persistable, but the file stores no parameter of that name");
        Fails(LiteTestFile.Assemble(topology, [.. parameters, LiteTestFile.Param("zz_extra", [1], new byte[4])]), "parameter 'zz_extra' is not a var of the program's block 0");
        Fails(LiteTestFile.Assemble(topology, parameters, count: (ushort)(parameters.Count + 1)), $"before parameter {parameters.Count} of {parameters.Count + 1}");

        // a parameter whose data is not its dims' worth, one whose dims are not its var's, one of no element type
        var all = LiteModelFile.Read(file.Bytes, "m.nb").Parameters;
        int k = names.FindIndex(n => all[n].Type.Shape!.Count > 1);
        var record = all[names[k]];
        long[] dims = [.. record.Type.Shape!];
        var data = record.Data.ToArray();
        byte[] Replaced(byte[] param) => LiteTestFile.Assemble(topology, [.. parameters[..k], param, .. parameters[(k + 1)..]]);
        Fails(Replaced(LiteTestFile.Param(names[k], dims, data[..^4])),
            $"parameter '{names[k]}' is FP32 [{string.Join(",", dims)}], {data.Length} bytes, but holds {data.Length - 4} bytes of data");
        long numel = dims.Aggregate(1L, (a, d) => a * d);
        Fails(Replaced(LiteTestFile.Param(names[k], [numel], data)),
            $"parameter '{names[k]}' is [{numel}], but the program declares it [{string.Join(",", dims)}]");
        Fails(Replaced(LiteTestFile.Param(names[k], dims, data, Fbs.VarType_.Type.LOD_TENSOR)), $"parameter '{names[k]}' has element type 7");
    }

    [Fact]
    public void SlotsAndAttributesOutOfOrderAreNamed()
    {
        // one op whose input slots are not sorted: Paddle-Lite's binary search would miss one
        var b = new FlatBufferBuilder(1024);
        Offset<Fbs.OpDesc_.Var> Slot(string name, string arg) =>
            Fbs.OpDesc_.Var.CreateVar(b, b.CreateString(name), Fbs.OpDesc_.Var.CreateArgumentsVector(b, [b.CreateString(arg)]));
        var inputs = Fbs.OpDesc.CreateInputsVector(b, [Slot("Y", "y"), Slot("X", "x")]);
        var op = Fbs.OpDesc.CreateOpDesc(b, b.CreateString("elementwise_add"), inputs);
        var block = Fbs.BlockDesc.CreateBlockDesc(b, 0, -1, default, Fbs.BlockDesc.CreateOpsVector(b, [op]));
        b.Finish(Fbs.ProgramDesc.CreateProgramDesc(b, Fbs.ProgramDesc.CreateBlocksVector(b, [block])).Value);
        Fails(LiteTestFile.Assemble(b.SizedByteArray(), []), "block 0 op 0 (elementwise_add): its input slots: 'X' comes after 'Y'; Paddle-Lite finds them by binary search");
    }

    [Fact]
    public void TheCommandLineExitsOneAndWritesNothing()
    {
        using var dir = new TempDir();
        var file = Example(dir);
        foreach (var (bytes, expected) in new[]
        {
            (file.Bytes[..(file.Bytes.Length - 3)], "remain (truncated)"),
            (With(file.Bytes, x => x[0] = 1), "CombinedParamsDesc"),
            ((byte[])[.. file.Bytes, 1, 2], "2 bytes follow the last of the"),
        })
        {
            File.WriteAllBytes(dir.File("bad.nb"), bytes);
            var (exit, _, stderr) = Mir.Opt(dir.File("bad.nb"), "-o", dir.File("out.onnx"));
            Assert.Equal(1, exit);
            Assert.Contains(expected, stderr);
            Assert.Contains("bad.nb", stderr);
            Assert.DoesNotContain("   at ", stderr);
            Assert.False(File.Exists(dir.File("out.onnx")));
        }
    }
}
