using System.Buffers.Binary;

namespace Mopt.Frontend.PaddleLite;

/// <summary>A checked flatbuffers vector: <paramref name="count"/> elements from <paramref name="start"/> (past its length).</summary>
public readonly struct FlatVector(byte[] bytes, int start, int count)
{
    public int Count => count;

    public FlatTable Table(int i) => new(bytes, Indirect(i));
    public string String(int i) => FlatTable.StringAt(bytes, Indirect(i));
    public int Int32(int i) => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(start + 4 * i));
    public long Int64(int i) => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(start + 8 * i));
    public float Float32(int i) => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(start + 4 * i));
    public double Float64(int i) => BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(start + 8 * i));
    public bool Bool(int i) => bytes[start + i] != 0;

    /// <summary>A vector of bytes as a slice of the array (a parameter's data, not copied).</summary>
    public ReadOnlyMemory<byte> Bytes => bytes.AsMemory(start, count);

    private int Indirect(int i)
    {
        int element = start + 4 * i;
        return element + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(element));
    }
}
