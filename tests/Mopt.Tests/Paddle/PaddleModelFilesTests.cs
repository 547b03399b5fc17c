using System.Buffers.Binary;
using Mopt.Frontend.Paddle;
using Mopt.Ir;
using Mopt.Paddle.Proto;
using Google.Protobuf;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Issue 14 items 1 and 8: Paddle's parameter records (LoDTensor bytes) and the three model layouts, read from the real
/// models in shared/models/paddle and from records written here; every bad file is an error that names the parameter.
/// </summary>
public sealed class PaddleModelFilesTests
{
    private static string Models => Path.Combine(TestPaths.SharedModels, "paddle");

    /// <summary>A record as Paddle's TensorToStream writes it, optionally with LoD levels.</summary>
    internal static byte[] Record(VarType.Types.Type type, long[] dims, byte[] data, ulong[][]? lod = null, uint version = 0)
    {
        var desc = new VarType.Types.TensorDesc { DataType = type };
        desc.Dims.AddRange(dims);
        var descBytes = desc.ToByteArray();
        using var stream = new MemoryStream();
        var word = new byte[8];
        void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(word, v); stream.Write(word, 0, 4); }
        void U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(word, v); stream.Write(word, 0, 8); }
        U32(version);
        U64((ulong)(lod?.Length ?? 0));
        foreach (var level in lod ?? [])
        {
            U64((ulong)level.Length * 8);
            foreach (var o in level) U64(o);
        }
        U32(0);
        U32((uint)descBytes.Length);
        stream.Write(descBytes);
        stream.Write(data);
        return stream.ToArray();
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    [Fact]
    public void RecordIsReadInPlaceAfterItsLodLevels()
    {
        var bytes = Record(VarType.Types.Type.Fp32, [2, 2], Floats(1, 2, 3, 4), lod: [[0, 1, 2]]);
        var twice = bytes.Concat(bytes).ToArray();
        int offset = 0;
        var first = PaddleTensorRecord.Read(twice, ref offset, "'x'");
        Assert.Equal(bytes.Length, offset);
        Assert.Equal("tensor<2x2xf32>", first.Type.ToString());
        Assert.Equal(Floats(1, 2, 3, 4), first.Data.ToArray());
        var second = PaddleTensorRecord.Read(twice, ref offset, "'x'");
        Assert.Equal(twice.Length, offset);
        Assert.True(second.Data.Span.Overlaps(twice), "the data is a slice of the file's bytes, not a copy");
    }

    [Theory]
    [InlineData(1, "LoDTensor version 1")]
    public void RecordOfAnotherVersionIsRefused(uint version, string expected)
    {
        var bytes = Record(VarType.Types.Type.Fp32, [1], Floats(1), version: version);
        int offset = 0;
        var e = Assert.Throws<MirException>(() => PaddleTensorRecord.Read(bytes, ref offset, "'w'"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("'w': ", e.Message);
    }

    [Fact]
    public void TruncatedRecordSaysWhereItEnds()
    {
        var bytes = Record(VarType.Types.Type.Fp32, [3], Floats(1, 2, 3));
        foreach (var (cut, expected) in new[] { (2, "before its version"), (10, "before its LoD level count"), (14, "before its tensor version"),
                                                (bytes.Length - 12 - 2, "the TensorDesc claims"), (bytes.Length - 1, "needs 12 bytes of data, but 11 remain") })
        {
            int offset = 0;
            var e = Assert.Throws<MirException>(() => PaddleTensorRecord.Read(bytes.AsMemory(0, cut), ref offset, "'w'"));
            Assert.Contains(expected, e.Message);
            Assert.Equal(0, offset);
        }
    }

    [Fact]
    public void UnreadableElementTypeIsNamed()
    {
        var bytes = Record(VarType.Types.Type.Complex64, [1], new byte[8]);
        int offset = 0;
        var e = Assert.Throws<MirException>(() => PaddleTensorRecord.Read(bytes, ref offset, "'c'"));
        Assert.Contains("element type 23 is not one mopt reads", e.Message);
    }

    [SharedModelsFact]
    public void SeparateParameterFilesOfFitALine()
    {
        var model = PaddleModelFiles.Read(Path.Combine(Models, "paddle2onnx_fit_a_line"));
        Assert.EndsWith("__model__", model.ProgramPath);
        Assert.Equal(["fc_0.b_0", "fc_0.w_0"], model.Parameters.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("tensor<13x1xf32>", model.Parameters["fc_0.w_0"].Type.ToString());
        // the bias's one float, as decoded by hand in docs/research/paddle-formats.md §2: d4 71 9a 41
        Assert.Equal(new byte[] { 0xd4, 0x71, 0x9a, 0x41 }, model.Parameters["fc_0.b_0"].Data.ToArray());
        Assert.Equal(model.ProgramPath, PaddleModelFiles.Read(model.ProgramPath).ProgramPath);
    }

    [SharedModelsFact]
    public void SeparateParameterFilesOfResNet()
    {
        var model = PaddleModelFiles.Read(Path.Combine(Models, "paddlemobile_resnet_cifar", "__model__"));
        Assert.Equal(167, model.Parameters.Count);
        Assert.Equal(33, model.Parameters.Keys.Count(k => k.StartsWith("conv2d_", StringComparison.Ordinal)));
        long bytes = model.Parameters.Values.Sum(p => (long)p.Data.Length);
        // every file is a 4-byte version, 8-byte level count, 4-byte tensor version, 4-byte desc size, the desc, the data
        long files = Directory.GetFiles(Path.Combine(Models, "paddlemobile_resnet_cifar")).Where(f => !f.EndsWith("__model__")).Sum(f => new FileInfo(f).Length);
        Assert.InRange(files - bytes, 167 * 22, 167 * 40);
    }

    [SharedModelsFact]
    public void CombinedParametersInSortedNameOrder()
    {
        var model = PaddleModelFiles.Read(Path.Combine(Models, "paddlelite_simple_model", "model.pdmodel"));
        Assert.Equal(["conv1_bn_mean", "conv1_bn_offset", "conv1_bn_scale", "conv1_bn_variance", "conv1_weights"],
            model.Parameters.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("tensor<32x3x3x3xf32>", model.Parameters["conv1_weights"].Type.ToString());
        Assert.Equal("tensor<32xf32>", model.Parameters["conv1_bn_variance"].Type.ToString());
        Assert.Equal(2002002, model.Program.Version.Version_);
    }

    [SharedModelsFact]
    public void TruncatedOrOverlongCombinedFileIsRefused()
    {
        using var dir = new TempDir();
        var source = Path.Combine(Models, "paddlelite_simple_model");
        File.Copy(Path.Combine(source, "model.pdmodel"), dir.File("m.pdmodel"));
        var bytes = File.ReadAllBytes(Path.Combine(source, "model.pdiparams"));

        File.WriteAllBytes(dir.File("m.pdiparams"), bytes[..^10]);
        var e = Assert.Throws<MirException>(() => PaddleModelFiles.Read(dir.File("m.pdmodel")));
        Assert.Contains("'conv1_weights' in m.pdiparams", e.Message);
        Assert.Contains("truncated", e.Message);

        File.WriteAllBytes(dir.File("m.pdiparams"), bytes[..608]); // the first four records only
        e = Assert.Throws<MirException>(() => PaddleModelFiles.Read(dir.File("m.pdmodel")));
        Assert.Contains("'conv1_weights'", e.Message);
        Assert.Contains("ends after 4 of the model's 5 parameters", e.Message);

        File.WriteAllBytes(dir.File("m.pdiparams"), [.. bytes, 0, 0, 0, 0]);
        e = Assert.Throws<MirException>(() => PaddleModelFiles.Read(dir.File("m.pdmodel")));
        Assert.Contains("4 bytes remain after the model's 5 parameters", e.Message);
    }

    [SharedModelsFact]
    public void MissingOrMismatchedParameterFileIsNamed()
    {
        using var dir = new TempDir();
        var source = Path.Combine(Models, "paddle2onnx_fit_a_line");
        File.Copy(Path.Combine(source, "__model__"), dir.File("__model__"));
        File.Copy(Path.Combine(source, "fc_0.w_0"), dir.File("fc_0.w_0"));
        var e = Assert.Throws<MirException>(() => PaddleModelFiles.Read(dir.Path));
        Assert.Contains("parameter 'fc_0.b_0' has no file", e.Message);

        File.WriteAllBytes(dir.File("fc_0.b_0"), Record(VarType.Types.Type.Fp32, [2], Floats(1, 2)));
        e = Assert.Throws<MirException>(() => PaddleModelFiles.Read(dir.Path));
        Assert.Contains("parameter 'fc_0.b_0' in fc_0.b_0 is FP32 [2], but the program declares it FP32 [1]", e.Message);
    }

    [Fact]
    public void NotAProgramIsRefused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("x.pdmodel"), [0x0a, 0x80]);
        var e = Assert.Throws<MirException>(() => PaddleModelFiles.Read(dir.File("x.pdmodel")));
        Assert.Contains("x.pdmodel: the file is truncated", e.Message);
    }
}
