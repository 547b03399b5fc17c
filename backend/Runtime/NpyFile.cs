using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Mopt.Ir;

namespace Mopt.Backend.Runtime;

/// <summary>
/// A NumPy <c>.npy</c> array (format versions 1–3, little-endian, C order): how inputs, calibration samples and
/// outputs are exchanged. Written by hand: no maintained .NET package reads .npy without pulling in a whole
/// array library.
/// </summary>
public sealed record NpyArray(ElementType Element, long[] Shape, byte[] Data)
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public TensorType TensorType => new(Element, Shape);

    public static NpyArray Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }
        return Parse(bytes, path);
    }

    public static NpyArray Parse(byte[] bytes, string name)
    {
        var (element, dims, dataStart) = ParseHeader(bytes, name);
        long expected = dims.Aggregate(1L, (a, b) => a * b) * element.ByteSize;
        if (bytes.Length - dataStart != expected)
            throw new MirException($"{name}: holds {bytes.Length - dataStart} data bytes but shape ({string.Join(", ", dims)}) of {element} needs {expected}");
        return new NpyArray(element, dims, bytes[dataStart..]);
    }

    /// <summary>The dtype and shape of a <c>.npy</c> file, reading only its header (to count and check samples before a run).</summary>
    public static (ElementType Element, long[] Shape) ReadHeader(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var prefix = new byte[12];
            int got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
            int length = got >= 10 && prefix[6] == 1 ? 10 + BinaryPrimitives.ReadUInt16LittleEndian(prefix.AsSpan(8))
                : got >= 12 ? 12 + checked((int)BinaryPrimitives.ReadUInt32LittleEndian(prefix.AsSpan(8))) : got;
            var head = new byte[Math.Min(length, stream.Length)];
            stream.Position = 0;
            stream.ReadExactly(head);
            var (element, dims, _) = ParseHeader(head, path);
            return (element, dims);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }
    }

    private static (ElementType Element, long[] Shape, int DataStart) ParseHeader(byte[] bytes, string name)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new MirException($"{name}: not a .npy file (no \\x93NUMPY magic)");
        int major = bytes[6];
        int headerLength, headerStart;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); headerStart = 10; }
        else if (major is 2 or 3 && bytes.Length >= 12) { headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8))); headerStart = 12; }
        else throw new MirException($"{name}: .npy format version {major} is not supported");
        if (headerStart + headerLength > bytes.Length) throw new MirException($"{name}: the .npy header is cut short");
        var header = Encoding.UTF8.GetString(bytes, headerStart, headerLength);

        var descr = Regex.Match(header, @"'descr'\s*:\s*'([^']*)'");
        var fortran = Regex.Match(header, @"'fortran_order'\s*:\s*(True|False)");
        var shape = Regex.Match(header, @"'shape'\s*:\s*\(([^)]*)\)");
        if (!descr.Success || !fortran.Success || !shape.Success) throw new MirException($"{name}: cannot read the .npy header: {header.Trim()}");
        if (fortran.Groups[1].Value == "True") throw new MirException($"{name}: Fortran-order arrays are not supported; save with np.ascontiguousarray");
        var element = ElementOf(descr.Groups[1].Value) ?? throw new MirException($"{name}: unsupported dtype '{descr.Groups[1].Value}' (little-endian bool, int, uint and float only)");
        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        return (element, dims, headerStart + headerLength);
    }

    public void Write(string path) => AtomicFile.Write(path, s => s.Write(ToBytes()));

    public byte[] ToBytes()
    {
        var shapeText = Shape.Length == 1 ? $"({Shape[0]},)" : $"({string.Join(", ", Shape)})";
        var dict = $"{{'descr': '{DescrOf(Element)}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        var header = dict + new string(' ', padded - total) + "\n";
        var result = new byte[10 + header.Length + Data.Length];
        Magic.CopyTo(result, 0);
        result[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header, result.AsSpan(10));
        Data.CopyTo(result, 10 + header.Length);
        return result;
    }

    private static ElementType? ElementOf(string descr) => descr switch
    {
        "<f4" => ElementType.F32, "<f8" => ElementType.F64, "<f2" => ElementType.F16,
        "<i8" => ElementType.I64, "<i4" => ElementType.I32, "<i2" => ElementType.I16, "|i1" or "<i1" => ElementType.I8,
        "<u8" => ElementType.UI64, "<u4" => ElementType.UI32, "<u2" => ElementType.UI16, "|u1" or "<u1" => ElementType.UI8,
        "|b1" => ElementType.I1,
        _ => null,
    };

    private static string DescrOf(ElementType t) => t.Name switch
    {
        "f32" => "<f4", "f64" => "<f8", "f16" => "<f2", "i64" => "<i8", "i32" => "<i4", "i16" => "<i2", "i8" => "|i1",
        "ui64" => "<u8", "ui32" => "<u4", "ui16" => "<u2", "ui8" => "|u1", "i1" => "|b1",
        _ => throw new MirException($"{t} arrays cannot be written as .npy"),
    };
}
