using System.Buffers.Binary;
using System.Text;
using Mopt.Dialects.Paddle;
using Mopt.Frontend.Paddle;
using Mopt.Ir;
using Mopt.Paddle.Proto;

namespace Mopt.Frontend.PaddleLite;

/// <summary>
/// A Paddle-Lite <c>.nb</c> (docs/formats/paddle.md), read and checked as Paddle-Lite's loader checks it, into the program
/// and parameters a Paddle model has: uint16 meta_version (2: what <c>opt</c> writes since Lite 2.7; 1 also read),
/// char[16] opt_version (a C string), uint64 topo_size, the topology (a framework.fbs ProgramDesc flatbuffer), then for
/// meta_version 2 the parameters' header (uint16 version 0, uint16 meta_size and that many bytes, uint16 header_size,
/// then uint16 params_size and uint32 max_tensor_size) and each parameter framed as uint32 total_size, uint32 offset,
/// offset−4 skipped bytes and a ParamDesc flatbuffer; for meta_version 1 one CombinedParamsDesc flatbuffer. Every
/// flatbuffer is verified; the parameters must be in byte-wise sorted name order, once each, each with as many bytes as
/// its dims and element type need and no more than max_tensor_size, each a persistable var of block 0 of the dims the
/// var declares; the file must end where the last parameter does. The parameters' bytes stay slices
/// of the file's one array.
/// </summary>
public static class LiteModelFile
{
    private const int HeaderSize = 2 + 16 + 8;

    public static bool IsLiteModel(string path) => FileNames.HasExtension(path, ".nb");

    public static PaddleModelFiles Read(string path)
    {
        if (!File.Exists(path)) throw new MirException($"{path}: no such file");
        return Read(WholeFile.Read(path), path);
    }

    /// <summary>The .nb in <paramref name="bytes"/>; <paramref name="path"/> names it in errors.</summary>
    public static PaddleModelFiles Read(byte[] bytes, string path)
    {
        if (bytes.Length < 2) throw new MirException($"{path}: {bytes.Length} bytes is too short for a Paddle-Lite model (it starts with a uint16 meta_version)");
        int meta = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
        switch (meta)
        {
            case 0:
                throw new MirException($"{path}: meta_version 0: the naive-buffer model of Paddle-Lite 2.6 and before, which mopt does not read; mopt reads meta_version 2 (what Paddle-Lite's opt writes since 2.7) and 1");
            case 1 or 2:
                break;
            default:
                throw new MirException($"{path}: meta_version {meta} is not a Paddle-Lite model version (Paddle-Lite writes 0, 1 or 2): not a .nb model?");
        }
        if (bytes.Length < HeaderSize)
            throw new MirException($"{path}: the file ends after {bytes.Length} bytes, inside its header (meta_version, opt_version[16], topo_size: {HeaderSize} bytes; truncated)");
        var optVersion = bytes.AsSpan(2, 16);
        if (optVersion.IndexOf((byte)0) < 0)
            throw new MirException($"{path}: opt_version (bytes 2..18) has no NUL in its 16 bytes: '{Encoding.ASCII.GetString(optVersion)}' is not the C string Paddle-Lite writes there");
        ulong topoSize = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(18));
        if (topoSize > (ulong)(bytes.Length - HeaderSize))
            throw new MirException($"{path}: topo_size is {topoSize} bytes, but {bytes.Length - HeaderSize} follow the header (truncated)");
        FlatBufferVerifier.Verify(bytes, HeaderSize, (int)topoSize, LiteSchemas.ProgramDesc, $"{path}: the program (ProgramDesc at byte {HeaderSize})");
        var program = LiteProgramReader.Read(FlatTable.Root(bytes, HeaderSize), path);
        if (program.Blocks.Count == 0) throw new MirException($"{path}: the program has no blocks");

        int at = HeaderSize + (int)topoSize;
        var parameters = meta == 2 ? FramedParameters(bytes, at, path) : CombinedParameters(bytes, at, path);
        CheckAgainstProgram(program, parameters, path);
        return new PaddleModelFiles(path, program, parameters);
    }

    /// <summary>The optimizer's version the file names (<c>v2.10-rc</c>): its opt_version up to the first NUL.</summary>
    public static string OptVersion(ReadOnlySpan<byte> file)
    {
        var field = file.Slice(2, 16);
        int nul = field.IndexOf((byte)0);
        return Encoding.ASCII.GetString(nul < 0 ? field : field[..nul]);
    }

    private static Dictionary<string, PaddleTensorRecord> FramedParameters(byte[] bytes, int at, string path)
    {
        var span = bytes.AsSpan();
        ushort U16(string field)
        {
            if (bytes.Length - at < 2) throw new MirException($"{path}: the file ends at byte {bytes.Length}, before the parameters' {field} (truncated)");
            var v = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at));
            at += 2;
            return v;
        }
        uint U32(string field)
        {
            if (bytes.Length - at < 4) throw new MirException($"{path}: the file ends at byte {bytes.Length}, before {field} (truncated)");
            var v = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            at += 4;
            return v;
        }
        void Skip(long count, string what)
        {
            if (count > bytes.Length - at) throw new MirException($"{path}: {what} is {count} bytes at byte {at}, but {bytes.Length - at} remain (truncated)");
            at += (int)count;
        }

        int version = U16("version");
        if (version != 0) throw new MirException($"{path}: the parameters' version (byte {at - 2}) is {version}; Paddle-Lite reads only version 0");
        Skip(U16("meta_size"), "the parameters' meta information");
        int headerSize = U16("header_size");
        if (headerSize < 6) throw new MirException($"{path}: the parameters' header_size (byte {at - 2}) is {headerSize}; it holds params_size and max_tensor_size, 6 bytes");
        if (bytes.Length - at < headerSize) throw new MirException($"{path}: the parameters' header is {headerSize} bytes at byte {at}, but {bytes.Length - at} remain (truncated)");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(span[at..]);
        uint maxTensorSize = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 2)..]);
        at += headerSize;

        var result = new Dictionary<string, PaddleTensorRecord>(count, StringComparer.Ordinal);
        string? previous = null;
        for (int i = 0; i < count; i++)
        {
            string which = $"parameter {i} of {count}" + (previous is null ? "" : $" (after '{previous}')");
            uint totalSize = U32($"{which}'s total_size");
            uint offset = U32($"{which}'s offset");
            if (offset < 4 || offset > totalSize)
                throw new MirException($"{path}: {which} at byte {at - 8}: offset {offset} with total_size {totalSize}; the offset counts itself (4) and lies within total_size");
            Skip(offset - 4, $"{which}'s padding");
            long size = totalSize - offset;
            if (size > bytes.Length - at)
                throw new MirException($"{path}: {which} is {size} bytes at byte {at}, but {bytes.Length - at} remain (truncated)");
            FlatBufferVerifier.Verify(bytes, at, (int)size, LiteSchemas.ParamDesc, $"{path}: {which} (ParamDesc at byte {at})");
            var (name, record) = Parameter(FlatTable.Root(bytes, at), path);
            if (record.Data.Length > maxTensorSize)
                throw new MirException($"{path}: parameter '{name}' has {record.Data.Length} bytes, more than the header's max_tensor_size {maxTensorSize} (Paddle-Lite reads each into a buffer of that size)");
            Add(result, ref previous, name, record, path);
            at += (int)size;
        }
        if (at != bytes.Length)
            throw new MirException($"{path}: {bytes.Length - at} bytes follow the last of the {count} parameters (at byte {at}); the file should end there");
        return result;
    }

    private static Dictionary<string, PaddleTensorRecord> CombinedParameters(byte[] bytes, int at, string path)
    {
        FlatBufferVerifier.Verify(bytes, at, bytes.Length - at, LiteSchemas.CombinedParamsDesc, $"{path}: the parameters (CombinedParamsDesc at byte {at})");
        var list = FlatTable.Root(bytes, at).Vector(0);
        var result = new Dictionary<string, PaddleTensorRecord>(list.Count, StringComparer.Ordinal);
        string? previous = null;
        for (int i = 0; i < list.Count; i++)
        {
            var (name, record) = Parameter(list.Table(i), path);
            Add(result, ref previous, name, record, path);
        }
        return result;
    }

    private static void Add(Dictionary<string, PaddleTensorRecord> result, ref string? previous, string name, PaddleTensorRecord record, string path)
    {
        if (previous is not null)
        {
            int order = Utf8Order.Instance.Compare(previous, name);
            if (order == 0) throw new MirException($"{path}: parameter '{name}' is stored twice");
            if (order > 0) throw new MirException($"{path}: parameter '{name}' comes after '{previous}'; Paddle-Lite writes the parameters in sorted name order");
        }
        result.Add(name, record);
        previous = name;
    }

    /// <summary>A ParamDesc: its name, and its tensor with the data a slice of the file.</summary>
    private static (string Name, PaddleTensorRecord Record) Parameter(FlatTable param, string path)
    {
        var name = param.String(1)!;
        if (param.UInt8(2) != 1 || param.Table(3) is not { } tensor)
            throw new MirException($"{path}: parameter '{name}' holds no tensor (its variable is not a LoDTensorDesc)");
        int code = tensor.Int32(3);
        var element = PaddleDataTypes.Element(code)
            ?? throw new MirException($"{path}: parameter '{name}' has element type {PaddleDataTypes.Name(code)}, which is not a tensor element type mopt reads");
        var dimVector = tensor.Vector(2);
        var dims = new long[dimVector.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = dimVector.Int64(i);
            if (dims[i] < 0) throw new MirException($"{path}: parameter '{name}' has dimension {i} = {dims[i]}; a saved tensor has every size");
        }
        var type = new TensorType(element, dims);
        var data = tensor.Vector(4).Bytes;
        if (type.ByteSize != data.Length)
            throw new MirException($"{path}: parameter '{name}' is {PaddleDataTypes.Name(code)} [{string.Join(",", dims)}], {type.ByteSize} bytes, but holds {data.Length} bytes of data");
        return (name, new PaddleTensorRecord(type, data));
    }

    /// <summary>
    /// Each parameter is a persistable var of block 0 with the dims it declares; each persistable dense tensor var has one.
    /// The element type may differ: opt's quantized models store INT8 weights under the FP32 vars of the float program.
    /// </summary>
    private static void CheckAgainstProgram(ProgramDesc program, Dictionary<string, PaddleTensorRecord> parameters, string path)
    {
        var vars = new Dictionary<string, VarDesc>(StringComparer.Ordinal);
        foreach (var v in program.Blocks[0].Vars) vars.TryAdd(v.Name, v);
        foreach (var (name, record) in parameters)
        {
            if (!vars.TryGetValue(name, out var var))
                throw new MirException($"{path}: parameter '{name}' is not a var of the program's block 0");
            if (!var.Persistable) throw new MirException($"{path}: parameter '{name}' is stored, but its var is not persistable");
            if (var.Type?.LodTensor?.Tensor is not { } declared) continue;
            var shape = record.Type.Shape!;
            if (!declared.Dims.SequenceEqual(shape))
                throw new MirException($"{path}: parameter '{name}' is [{string.Join(",", shape)}], but the program declares it [{string.Join(",", declared.Dims)}]");
        }
        foreach (var v in program.Blocks[0].Vars)
            if (v.Persistable && (int)(v.Type?.Type ?? 0) == PaddleDataTypes.LodTensor && !parameters.ContainsKey(v.Name))
                throw new MirException($"{path}: var '{v.Name}' is persistable, but the file stores no parameter of that name");
    }
}
