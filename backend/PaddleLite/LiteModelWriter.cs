using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Google.FlatBuffers;
using Mopt.Backend.Paddle;
using Mopt.Dialects.Paddle;
using Mopt.Ir;
using Fbs = paddle.lite.fbs.proto;

namespace Mopt.Backend.PaddleLite;

/// <summary>
/// Writes a module in <c>paddle.*</c> as a Paddle-Lite <c>.nb</c>, meta_version 2 (docs/formats/paddle.md): the program
/// <see cref="PaddleExporter"/> makes (what <c>-o X.pdmodel</c> writes) as a framework.fbs flatbuffer, and block 0's
/// persistable vars as ParamDesc flatbuffers in byte-wise sorted name order, framed as Paddle-Lite's ParamSerializer
/// frames them. Structurally what Paddle-Lite's loader reads; not what its <c>opt</c> writes: no Lite fusions, no
/// kernel picked (<c>__@kernel_type_attr@__</c> is left out, and the light runtime then takes the op's first kernel).
/// </summary>
public sealed class LiteModelWriter : IModelWriter
{
    /// <summary>The opt_version field: which tool wrote the file (Paddle-Lite writes its git tag, <c>v2.10-rc</c>, and only warns on a mismatch).</summary>
    public static string OptVersion { get; } = "mopt-" + (typeof(LiteModelWriter).Assembly.GetName().Version?.ToString(3) ?? "0");

    public string Format => "Paddle-Lite model (.nb, meta_version 2)";

    public bool CanWrite(string path) => FileNames.HasExtension(path, ".nb");

    public void Write(MirModule module, Stream output, string finalPath) => Write(PaddleExporter.ToProgram(module, finalPath), output, finalPath);

    public static void Write(PaddleProgram program, Stream output, string what)
    {
        var topology = LiteProgramWriter.Write(program.Program, what);
        Span<byte> header = stackalloc byte[2 + 16 + 8];
        header.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(header, 2);
        Encoding.ASCII.GetBytes(OptVersion, header[2..17]);
        BinaryPrimitives.WriteUInt64LittleEndian(header[18..], (ulong)topology.Length);
        output.Write(header);
        output.Write(topology);
        WriteParameters(program, output, what);
    }

    /// <summary>uint16 version 0, uint16 meta_size 0, uint16 header_size 6, uint16 params_size, uint32 max_tensor_size; then each parameter as uint32 total_size, uint32 offset 4, its ParamDesc.</summary>
    private static void WriteParameters(PaddleProgram program, Stream output, string what)
    {
        var parameters = program.Parameters.OrderBy(p => p.Key, Utf8Order.Instance).ToList();
        if (parameters.Count > ushort.MaxValue)
            throw new MirException($"{what}: {parameters.Count} parameters; a .nb counts them in a uint16 (at most {ushort.MaxValue})");
        long maxTensorSize = parameters.Count == 0 ? 0 : parameters.Max(p => (long)p.Value.Bytes.Length);
        if (maxTensorSize >= uint.MaxValue)
            throw new MirException($"{what}: parameter '{parameters.First(p => p.Value.Bytes.Length == maxTensorSize).Key}' has {maxTensorSize} bytes; a .nb sizes each in a uint32");
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(header, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 6);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)parameters.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)maxTensorSize);
        output.Write(header);
        Span<byte> frame = stackalloc byte[8];
        foreach (var (name, tensor) in parameters)
        {
            var param = ParamDesc(name, tensor, what);
            if ((long)param.Count + 4 > uint.MaxValue) throw new MirException($"{what}: parameter '{name}' does not fit a .nb's uint32 size");
            BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)param.Count + 4);
            BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], 4);
            output.Write(frame);
            output.Write(param);
        }
    }

    /// <summary>A finished ParamDesc flatbuffer: name, and a LoDTensorDesc of dims, element type and data (what Paddle-Lite's FillParam sets).</summary>
    private static ArraySegment<byte> ParamDesc(string name, ConstantTensor tensor, string what)
    {
        var code = PaddleDataTypes.Code(tensor.Type.Element) is { } c && LiteProgramWriter.IsLiteElement(c) ? c
            : throw new MirException($"{what}: parameter '{name}' is {tensor.Type.Element}, which a .nb cannot hold (BOOL..FP64, UINT8 and INT8)");
        var data = tensor.Bytes;
        var builder = new FlatBufferBuilder(data.Length + 256 + 8 * (tensor.Type.Shape?.Count ?? 0) + 2 * name.Length);
        Fbs.ParamDesc_.LoDTensorDesc.StartDataVector(builder, data.Length);
        builder.Add(MemoryMarshal.TryGetArray(data, out var segment) ? segment : new ArraySegment<byte>(data.ToArray()));
        var dataVector = builder.EndVector();
        var dims = Fbs.ParamDesc_.LoDTensorDesc.CreateDimVector(builder, [.. tensor.Type.Shape!]);
        Fbs.ParamDesc_.LoDTensorDesc.StartLoDTensorDesc(builder);
        Fbs.ParamDesc_.LoDTensorDesc.AddDim(builder, dims);
        Fbs.ParamDesc_.LoDTensorDesc.AddDataType(builder, (Fbs.VarType_.Type)code);
        Fbs.ParamDesc_.LoDTensorDesc.AddData(builder, dataVector);
        var variable = Fbs.ParamDesc_.LoDTensorDesc.EndLoDTensorDesc(builder);
        var nameOffset = builder.CreateString(name);
        Fbs.ParamDesc.StartParamDesc(builder);
        Fbs.ParamDesc.AddName(builder, nameOffset);
        Fbs.ParamDesc.AddVariableType(builder, Fbs.ParamDesc_.VariableDesc.LoDTensorDesc);
        Fbs.ParamDesc.AddVariable(builder, variable.Value);
        builder.Finish(Fbs.ParamDesc.EndParamDesc(builder).Value);
        return builder.DataBuffer.ToArraySegment(builder.DataBuffer.Position, builder.Offset);
    }
}
