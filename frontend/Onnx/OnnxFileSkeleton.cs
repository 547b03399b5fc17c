namespace Mopt.Frontend.Onnx;

/// <summary>
/// An ONNX file without the bytes Google.Protobuf would copy needlessly: the <c>raw_data</c> of the main graph's
/// initializers (field 9 of TensorProto, in field 5 of GraphProto, in field 7 of ModelProto) of at least
/// <see cref="MinMappedBytes"/> bytes. The skeleton is the file with each such raw_data made empty (the enclosing
/// lengths rewritten); it parses to the same ModelProto but for those fields, whose bytes stay in the mapped file at
/// the recorded places. Subgraphs' initializers and Constant nodes' tensors are left in the skeleton (copied).
/// </summary>
internal static class OnnxFileSkeleton
{
    public const int MinMappedBytes = 4096;

    /// <summary>Where an initializer's raw_data is in the file: <paramref name="Initializer"/> is its index in graph.initializer.</summary>
    public readonly record struct RawData(int Initializer, long Offset, int Length);

    public sealed record Result(byte[] Skeleton, RawData[] Raw);

    private readonly record struct Elided(int Initializer, int FieldStart, int ContentStart, int ContentEnd, int RawFieldStart, int RawStart, int RawLength);

    /// <summary>
    /// The skeleton, or null when no raw_data is worth leaving out or the wire is not what a well-formed ONNX file has
    /// (the caller then parses the file as it is, which reports any error).
    /// </summary>
    public static Result? Build(ReadOnlySpan<byte> file)
    {
        if (!FindGraph(file, out int graphFieldStart, out int graphStart, out int graphEnd)) return null;
        var elided = new List<Elided>();
        int initializer = 0;
        for (int pos = graphStart; pos < graphEnd;)
        {
            int fieldStart = pos;
            if (!Field(file, ref pos, graphEnd, out int field, out int contentStart)) return null;
            if (field != 5 || contentStart < 0) continue;
            if (!FindRawData(file, contentStart, pos, out int rawFieldStart, out int rawStart, out int rawLength)) return null;
            if (rawLength >= MinMappedBytes) elided.Add(new Elided(initializer, fieldStart, contentStart, pos, rawFieldStart, rawStart, rawLength));
            initializer++;
        }
        if (elided.Count == 0) return null;

        // Sizes, inside out: each shortened TensorProto, then the graph holding them.
        long graphLength = graphEnd - graphStart;
        var tensorLengths = new int[elided.Count];
        for (int i = 0; i < elided.Count; i++)
        {
            var e = elided[i];
            int length = tensorLengths[i] = e.ContentEnd - e.ContentStart - (e.RawStart + e.RawLength - e.RawFieldStart) + 2;
            graphLength += 1 + VarintSize((ulong)length) + length - (e.ContentEnd - e.FieldStart);
        }
        long size = graphFieldStart + 1 + VarintSize((ulong)graphLength) + graphLength + (file.Length - graphEnd);
        var skeleton = GC.AllocateUninitializedArray<byte>(checked((int)size));
        var output = skeleton.AsSpan();
        int at = 0;
        void Copy(ReadOnlySpan<byte> bytes, Span<byte> to)
        {
            bytes.CopyTo(to[at..]);
            at += bytes.Length;
        }
        Copy(file[..graphFieldStart], output);
        output[at++] = 0x3A; // field 7, length-delimited
        at += WriteVarint(output[at..], (ulong)graphLength);
        int cursor = graphStart;
        for (int i = 0; i < elided.Count; i++)
        {
            var e = elided[i];
            Copy(file[cursor..e.FieldStart], output);
            output[at++] = 0x2A; // field 5, length-delimited
            at += WriteVarint(output[at..], (ulong)tensorLengths[i]);
            Copy(file[e.ContentStart..e.RawFieldStart], output);
            output[at++] = 0x4A; // field 9, length-delimited, empty
            output[at++] = 0;
            Copy(file[(e.RawStart + e.RawLength)..e.ContentEnd], output);
            cursor = e.ContentEnd;
        }
        Copy(file[cursor..graphEnd], output);
        Copy(file[graphEnd..], output);
        if (at != skeleton.Length) return null;
        return new Result(skeleton, elided.Select(e => new RawData(e.Initializer, e.RawStart, e.RawLength)).ToArray());
    }

    /// <summary>The one graph field (7) of a ModelProto: where its tag starts and where its content starts and ends.</summary>
    private static bool FindGraph(ReadOnlySpan<byte> file, out int fieldStart, out int start, out int end)
    {
        fieldStart = start = end = -1;
        for (int pos = 0; pos < file.Length;)
        {
            int at = pos;
            if (!Field(file, ref pos, file.Length, out int field, out int contentStart)) return false;
            if (field != 7) continue;
            if (contentStart < 0 || fieldStart >= 0) return false; // not a message, or a second graph field (merged by protobuf)
            (fieldStart, start, end) = (at, contentStart, pos);
        }
        return fieldStart >= 0;
    }

    /// <summary>The raw_data field (9) of a TensorProto, if any (length -1 when it has none).</summary>
    private static bool FindRawData(ReadOnlySpan<byte> file, int start, int end, out int fieldStart, out int rawStart, out int rawLength)
    {
        fieldStart = rawStart = rawLength = -1;
        for (int pos = start; pos < end;)
        {
            int at = pos;
            if (!Field(file, ref pos, end, out int field, out int contentStart)) return false;
            if (field != 9) continue;
            if (contentStart < 0 || fieldStart >= 0) return false; // a second raw_data would replace the first
            (fieldStart, rawStart, rawLength) = (at, contentStart, pos - contentStart);
        }
        return true;
    }

    /// <summary>
    /// Steps over one field; <paramref name="contentStart"/> is where a length-delimited field's content starts (-1 for
    /// other wire types). False for groups, unknown wire types and anything that runs past <paramref name="end"/>.
    /// </summary>
    private static bool Field(ReadOnlySpan<byte> file, ref int pos, int end, out int field, out int contentStart)
    {
        field = 0;
        contentStart = -1;
        if (!Varint(file, ref pos, end, out ulong tag) || tag >> 3 == 0 || tag >> 3 > int.MaxValue) return false;
        field = (int)(tag >> 3);
        ulong skip;
        switch (tag & 7)
        {
            case 0: return Varint(file, ref pos, end, out _);
            case 1: skip = 8; break;
            case 5: skip = 4; break;
            case 2:
                if (!Varint(file, ref pos, end, out skip)) return false;
                contentStart = pos;
                break;
            default: return false;
        }
        if (skip > (ulong)(end - pos)) return false;
        pos += (int)skip;
        return true;
    }

    private static bool Varint(ReadOnlySpan<byte> file, ref int pos, int end, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && pos < end; shift += 7)
        {
            byte b = file[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }

    private static int VarintSize(ulong value)
    {
        int n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

    private static int WriteVarint(Span<byte> to, ulong value)
    {
        int n = 0;
        while (value >= 0x80)
        {
            to[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        to[n++] = (byte)value;
        return n;
    }
}
