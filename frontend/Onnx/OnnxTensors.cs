using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Mopt.Dialects.Onnx;
using Mopt.Ir;
using Mopt.Onnx.Proto;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Frontend.Onnx;

/// <summary>
/// A tensor's bytes as the IR keeps them: little-endian, row-major, one byte per bool, int4/uint4 packed two to a
/// byte, low nibble first (as ONNX stores them). Bytes from <c>raw_data</c> are not copied: they are the mapped
/// file's (<see cref="MappedFile"/>) or the protobuf parser's buffer; external data is mapped.
/// </summary>
public readonly record struct TensorData(TensorType Type, ReadOnlyMemory<byte> Bytes);

/// <summary>Reads TensorProto contents: raw_data, the typed fields, or external data files.</summary>
public sealed class OnnxTensorReader : IDisposable
{
    private readonly string? _modelDir;
    private readonly string _modelName;
    private readonly IReadOnlyDictionary<TensorProto, ReadOnlyMemory<byte>>? _mappedRawData;
    // The mappings live on in the tensors' bytes; only the table of them goes with the reader.
    private readonly Dictionary<string, MappedFile> _files = new(StringComparer.Ordinal);

    /// <param name="modelDir">The folder external data paths are relative to (null: external data is an error).</param>
    /// <param name="modelName">The model file, for messages.</param>
    /// <param name="mappedRawData">raw_data the parsed tensors lack, left in the mapped model file (<see cref="OnnxFileSkeleton"/>).</param>
    public OnnxTensorReader(string? modelDir, string modelName, IReadOnlyDictionary<TensorProto, ReadOnlyMemory<byte>>? mappedRawData = null)
    {
        _modelDir = modelDir;
        _modelName = modelName;
        _mappedRawData = mappedRawData;
    }

    public void Dispose() => _files.Clear();

    /// <summary>The tensor's type and bytes; <paramref name="what"/> names it in errors (e.g. "initializer 'w'").</summary>
    public TensorData Read(TensorProto tensor, string what)
    {
        var elem = OnnxDataTypes.ElementOf(tensor.DataType)
            ?? throw new MirException($"'{_modelName}': {what} has element type {OnnxDataTypes.ElementName(tensor.DataType)}, which mopt cannot hold as tensor data");
        if (tensor.Segment is not null)
            throw new MirException($"'{_modelName}': {what} is a segment of a larger tensor, which mopt does not support");
        var dims = new long[tensor.Dims.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = tensor.Dims[i];
            if (dims[i] < 0) throw new MirException($"'{_modelName}': {what} has a negative dimension ({dims[i]})");
        }
        var type = new TensorType(elem, dims);
        long count;
        try { count = type.ElementCount!.Value; }
        catch (OverflowException) { throw new MirException($"'{_modelName}': {what} is too large ({type})"); }
        long size = type.ByteSize!.Value;

        if (tensor.HasDataLocation && tensor.DataLocation == TensorProto.Types.DataLocation.External)
            return new TensorData(type, ReadExternal(tensor, what, size));

        if (tensor.HasRawData)
        {
            var raw = _mappedRawData is not null && _mappedRawData.TryGetValue(tensor, out var mapped) ? mapped : tensor.RawData.Memory;
            if (raw.Length != size)
                throw new MirException($"'{_modelName}': {what} has {raw.Length} bytes of raw_data but {type} needs {size}");
            return new TensorData(type, raw);
        }
        return new TensorData(type, FromTypedFields(tensor, elem, count, what));
    }

    private byte[] FromTypedFields(TensorProto t, ElementType elem, long count, string what)
    {
        // int4/uint4: each int32_data entry holds one byte of two packed elements, as raw_data does.
        int n = checked((int)(elem.IsPacked ? (count + 1) / 2 : count));
        var bytes = new byte[checked(n * elem.ByteSize)];
        var span = bytes.AsSpan();
        int have = (DataType)t.DataType switch
        {
            DataType.Float => t.FloatData.Count,
            DataType.Double => t.DoubleData.Count,
            DataType.Int64 => t.Int64Data.Count,
            DataType.Uint32 or DataType.Uint64 => t.Uint64Data.Count,
            _ => t.Int32Data.Count,
        };
        if (have != n)
            throw new MirException(have == 0 && n > 0
                ? $"'{_modelName}': {what} ({elem.Name}, {count} elements) has no data"
                : $"'{_modelName}': {what} has {have} values but its shape needs {n}{(elem.IsPacked ? $" (two {elem.Name} elements each)" : "")}");
        switch ((DataType)t.DataType)
        {
            case DataType.Float:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], t.FloatData[i]);
                break;
            case DataType.Double:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteDoubleLittleEndian(span[(i * 8)..], t.DoubleData[i]);
                break;
            case DataType.Int64:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteInt64LittleEndian(span[(i * 8)..], t.Int64Data[i]);
                break;
            case DataType.Uint32:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt32LittleEndian(span[(i * 4)..], unchecked((uint)t.Uint64Data[i]));
                break;
            case DataType.Uint64:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt64LittleEndian(span[(i * 8)..], t.Uint64Data[i]);
                break;
            case DataType.Int32:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], t.Int32Data[i]);
                break;
            case DataType.Int16 or DataType.Uint16 or DataType.Float16 or DataType.Bfloat16:
                // f16 and bf16 are stored as their 16-bit patterns in int32_data.
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt16LittleEndian(span[(i * 2)..], unchecked((ushort)t.Int32Data[i]));
                break;
            case DataType.Int8 or DataType.Uint8 or DataType.Int4 or DataType.Uint4:
                for (int i = 0; i < n; i++) span[i] = unchecked((byte)t.Int32Data[i]);
                break;
            case DataType.Bool:
                for (int i = 0; i < n; i++) span[i] = t.Int32Data[i] != 0 ? (byte)1 : (byte)0;
                break;
        }
        return bytes;
    }

    private ReadOnlyMemory<byte> ReadExternal(TensorProto t, string what, long size)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var kv in t.ExternalData)
        {
            switch (kv.Key)
            {
                case "location": location = kv.Value; break;
                case "offset":
                    if (!long.TryParse(kv.Value, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
                        throw new MirException($"'{_modelName}': {what} has a bad external data offset '{kv.Value}'");
                    break;
                case "length":
                    if (!long.TryParse(kv.Value, NumberStyles.None, CultureInfo.InvariantCulture, out length))
                        throw new MirException($"'{_modelName}': {what} has a bad external data length '{kv.Value}'");
                    break;
            }
        }
        if (string.IsNullOrEmpty(location))
            throw new MirException($"'{_modelName}': {what} keeps its data externally but names no location");
        if (_modelDir is null)
            throw new MirException($"'{_modelName}': {what} keeps its data in '{location}', but the model was not read from a file");
        if (Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
            throw new MirException($"'{_modelName}': {what} keeps its data in '{location}', outside the model's folder");
        if (length < 0) length = size;
        if (length != size)
            throw new MirException($"'{_modelName}': {what} has {length} bytes of external data but {size} are needed");
        if (length > Array.MaxLength)
            throw new MirException($"'{_modelName}': {what} has {length} bytes, more than mopt holds in one tensor ({Array.MaxLength})");
        var path = Path.Combine(_modelDir, location);
        if (!_files.TryGetValue(path, out var file))
        {
            if (!File.Exists(path))
                throw new MirException($"'{_modelName}': external data file '{location}' of {what} does not exist (looked for '{path}')");
            try { file = MappedFile.Open(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new MirException($"'{_modelName}': cannot read external data file '{location}': {e.Message}");
            }
            if (file is null)
            {
                if (length == 0) return ReadOnlyMemory<byte>.Empty;
                throw new MirException($"'{_modelName}': {what} needs bytes {offset}..{offset + length} of '{location}', which is empty");
            }
            _files[path] = file;
        }
        if (offset + length > file.Length)
            throw new MirException($"'{_modelName}': {what} needs bytes {offset}..{offset + length} of '{location}', which has only {file.Length}");
        return file.Slice(offset, (int)length);
    }

    /// <summary>Reads a TensorProto file (the <c>input_0.pb</c> of ONNX test data sets).</summary>
    public static TensorProto ParseTensorFile(string path)
    {
        try { return TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)); }
        catch (Google.Protobuf.InvalidProtocolBufferException e) { throw new MirException($"'{path}': not a TensorProto: {e.Message}"); }
    }

    /// <summary>The bytes as <typeparamref name="T"/> values (a copy), e.g. to hand them to a runtime.</summary>
    public static T[] ToArray<T>(ReadOnlyMemory<byte> bytes) where T : unmanaged => MemoryMarshal.Cast<byte, T>(bytes.Span).ToArray();
}
