using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mopt.Caffe.Proto;
using Mopt.Dialects.Caffe;
using Mopt.Ir;
using Mopt.Protobuf;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// A message's set fields as MLIR attributes, read from its wire bytes with its descriptor (no .NET reflection, so
/// Native AOT keeps it whole): integers → i64, float → f32, double → f64, bool, string, enum → its name, a nested
/// message → a dictionary, a repeated field → an array. Only what the bytes hold appears (Caffe's defaults stay
/// implicit, as in the prototxt); fields the schema does not know are kept as bytes in <c>caffe.unknown_fields</c>.
/// One per import: it keeps the fields being read in lists reused from message to message.
/// </summary>
internal sealed class CaffeAttributes(CaffeFieldNumbers numbers)
{
    public const string UnknownFieldsAttr = "caffe.unknown_fields";

    /// <summary>
    /// The fields read so far of every message being read, each message's from where it started, in the order they first
    /// appear: a message has a handful of fields, searched in order. A singular field keeps its last value, a repeated
    /// one all of its values (in a list of <see cref="_spareLists"/>).
    /// </summary>
    private readonly List<Entry> _entries = [];
    private readonly List<List<Attr>> _spareLists = [];
    /// <summary>The attributes of the layer's own parameter message, read before the layer's other fields are done.</summary>
    private readonly List<NamedAttr> _own = [];
    /// <summary>The entries of the dictionary being made (<see cref="Message(ReadOnlySpan{byte}, CaffeMessageFields)"/>).</summary>
    private readonly List<NamedAttr> _dictionary = [];

    private struct Entry(CaffeField field)
    {
        public readonly CaffeField Field = field;
        public Attr? Last;
        public List<Attr>? Values;
    }

    /// <summary>A nested message as a dictionary of its set fields.</summary>
    public DictionaryAttr Message(ReadOnlySpan<byte> bytes, MessageDescriptor descriptor) => Message(bytes, numbers.Of(descriptor));

    private DictionaryAttr Message(ReadOnlySpan<byte> bytes, CaffeMessageFields type)
    {
        int start = Read(bytes, type, out var unknown);
        int count = _entries.Count - start;
        // Nested messages are whole by now: one scratch list serves every level.
        var attrs = _dictionary;
        attrs.Clear();
        for (int i = 0; i < count; i++) attrs.Add(new NamedAttr(_entries[start + i].Field.Name, Take(start + i)));
        if (unknown is not null) attrs.Add(new NamedAttr(UnknownFieldsAttr, Bytes(unknown)));
        _entries.RemoveRange(start, count);
        return DictionaryAttr.From(CollectionsMarshal.AsSpan(attrs));
    }

    /// <summary>
    /// The attributes of a LayerParameter's bytes, added to <paramref name="attrs"/>: but for its place in the net (name,
    /// type, bottoms, tops) and its blobs (operands, never decoded into numbers), which are skipped unread. The fields of
    /// its own parameter message (<paramref name="ownName"/>, <c>convolution_param</c> of a Convolution; else the one
    /// <c>*_param</c> it has apart from transform_param and loss_param, which any layer may carry) are plain, the field
    /// named in <c>caffe.param_field</c>; any other <c>*_param</c> is a dictionary of that name, the layer's other fields
    /// (phase, loss_weight, param, propagate_down, include, exclude) <c>caffe.&lt;field&gt;</c>.
    /// </summary>
    public void Layer(ReadOnlySpan<byte> bytes, string? ownName, List<NamedAttr> attrs)
    {
        var type = numbers.Of(LayerParameter.Descriptor);
        // The own parameter is known before its fields are read, so they go to the op as they are (a message given twice
        // is its last: the first's fields are not read).
        var own = OwnParam(bytes, type, ownName, out int ownAt);
        int start = _entries.Count;
        List<byte>? unknownBytes = null;
        _own.Clear();
        var input = new WireReader(bytes);
        while (!input.AtEnd)
        {
            int at = input.Position;
            uint tag = input.Tag();
            int number = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            var field = type.Find(number);
            if (field is null)
            {
                input.Skip(wire);
                (unknownBytes ??= []).AddRange(bytes[at..input.Position]);
            }
            else if (number is LayerParameter.NameFieldNumber or LayerParameter.TypeFieldNumber or LayerParameter.BottomFieldNumber
                or LayerParameter.TopFieldNumber or LayerParameter.BlobsFieldNumber)
                input.Skip(wire);
            else if (ReferenceEquals(field, own) && wire == WireFormat.WireType.LengthDelimited)
            {
                IndexOf(own, start);
                if (at == ownAt) OwnFields(input.LengthDelimited(), own);
                else input.LengthDelimited();
            }
            else Add(ref input, type, field, wire, start);
        }
        for (int i = start; i < _entries.Count; i++)
        {
            var field = _entries[i].Field;
            if (ReferenceEquals(field, own))
            {
                attrs.Add(new NamedAttr(CaffeDialect.ParamAttr, own.NameAttr));
                attrs.AddRange(_own);
            }
            else attrs.Add(new NamedAttr(field.LayerAttrName, Take(i)));
        }
        _entries.RemoveRange(start, _entries.Count - start);
        if (unknownBytes is not null) attrs.Add(new NamedAttr(UnknownFieldsAttr, Bytes(unknownBytes.ToArray())));
    }

    /// <summary>
    /// The layer's own parameter message: the field named <paramref name="ownName"/> if the layer has it, else its one
    /// <c>*_param</c> but transform_param and loss_param, else none; <paramref name="at"/> is where its last value starts.
    /// </summary>
    private static CaffeField? OwnParam(ReadOnlySpan<byte> bytes, CaffeMessageFields type, string? ownName, out int at)
    {
        CaffeField? named = null, other = null;
        int namedAt = -1, otherAt = -1;
        bool severalOthers = false;
        var input = new WireReader(bytes);
        while (!input.AtEnd)
        {
            int start = input.Position;
            uint tag = input.Tag();
            var field = type.Find(WireFormat.GetTagFieldNumber(tag));
            input.Skip(WireFormat.GetTagWireType(tag));
            if (field is not { IsParam: true }) continue;
            if (field.Name == ownName) (named, namedAt) = (field, start);
            if (field.Name is "transform_param" or "loss_param") continue;
            if (other is null) (other, otherAt) = (field, start);
            else if (ReferenceEquals(field, other)) otherAt = start;
            else severalOthers = true;
        }
        if (named is not null) { at = namedAt; return named; }
        at = otherAt;
        return severalOthers ? null : other;
    }

    /// <summary>The own parameter message's fields as the op's attributes (its unknown fields apart from the layer's).</summary>
    private void OwnFields(ReadOnlySpan<byte> bytes, CaffeField own)
    {
        int start = Read(bytes, numbers.Of(own.Descriptor.MessageType), out var unknown);
        for (int i = start; i < _entries.Count; i++) _own.Add(new NamedAttr(_entries[i].Field.Name, Take(i)));
        if (unknown is not null) _own.Add(new NamedAttr(CaffeImporter.ParamUnknownFieldsAttr, Bytes(unknown)));
        _entries.RemoveRange(start, _entries.Count - start);
    }

    /// <summary>Reads a message's fields into <see cref="_entries"/>, from the returned index on.</summary>
    private int Read(ReadOnlySpan<byte> bytes, CaffeMessageFields type, out byte[]? unknown)
    {
        int start = _entries.Count;
        List<byte>? unknownBytes = null;
        var input = new WireReader(bytes);
        while (!input.AtEnd)
        {
            int at = input.Position;
            uint tag = input.Tag();
            var wire = WireFormat.GetTagWireType(tag);
            var field = type.Find(WireFormat.GetTagFieldNumber(tag));
            if (field is null)
            {
                input.Skip(wire);
                (unknownBytes ??= []).AddRange(bytes[at..input.Position]);
            }
            else Add(ref input, type, field, wire, start);
        }
        unknown = unknownBytes?.ToArray();
        return start;
    }

    /// <summary>The value (or a packed run of values) of <paramref name="field"/> at the input, added to its entry.</summary>
    private void Add(ref WireReader input, CaffeMessageFields type, CaffeField field, WireFormat.WireType wire, int start)
    {
        int index = IndexOf(field, start);
        if (wire == WireFormat.WireType.LengthDelimited && field.IsPackable)
        {
            // packed repeated scalars
            var packed = new WireReader(input.LengthDelimited());
            while (!packed.AtEnd) Put(index, Scalar(ref packed, field));
        }
        else if (field.IsMessage && wire == WireFormat.WireType.LengthDelimited)
            Put(index, Message(input.LengthDelimited(), numbers.Of(field.Descriptor.MessageType)));
        else if (wire == field.Wire) Put(index, Scalar(ref input, field));
        else throw new MirException($"{type.Type.Name}.{field.Name} has the wrong wire type ({wire})");
    }

    /// <summary>The index of <paramref name="field"/>'s entry among those from <paramref name="start"/>, added if it has none.</summary>
    private int IndexOf(CaffeField field, int start)
    {
        for (int i = start; i < _entries.Count; i++)
            if (ReferenceEquals(_entries[i].Field, field)) return i;
        _entries.Add(new Entry(field));
        return _entries.Count - 1;
    }

    private void Put(int index, Attr value)
    {
        ref var entry = ref CollectionsMarshal.AsSpan(_entries)[index];
        if (!entry.Field.IsRepeated) entry.Last = value;
        else if (entry.Values is { } values) values.Add(value);
        else
        {
            var list = _spareLists.Count > 0 ? _spareLists[^1] : [];
            if (_spareLists.Count > 0) _spareLists.RemoveAt(_spareLists.Count - 1);
            list.Add(value);
            entry.Values = list;
        }
    }

    /// <summary>The entry's attribute (its list, if any, cleared for reuse).</summary>
    private Attr Take(int index)
    {
        var entry = _entries[index];
        if (!entry.Field.IsRepeated) return entry.Last!;
        if (entry.Values is not { } values) return ArrayAttr.Of([]);
        var array = ArrayAttr.Of(values);
        values.Clear();
        _spareLists.Add(values);
        return array;
    }

    public static DenseElementsAttr Bytes(byte[] bytes) => new(new TensorType(ElementType.UI8, [bytes.Length]), bytes, false);

    private Attr Scalar(ref WireReader input, CaffeField field) => field.Type switch
    {
        FieldType.Float => FloatAttr.F32(BitConverter.Int32BitsToSingle((int)input.Fixed32())),
        FieldType.Double => new FloatAttr(BitConverter.Int64BitsToDouble((long)input.Fixed64()), ElementType.F64),
        FieldType.Bool => input.Varint() != 0 ? BoolAttr.True : BoolAttr.False,
        FieldType.Int32 => IntegerAttr.I64((int)input.Varint()),
        FieldType.Int64 => IntegerAttr.I64((long)input.Varint()),
        FieldType.UInt32 => IntegerAttr.I64((uint)input.Varint()),
        FieldType.UInt64 => IntegerAttr.I64((long)input.Varint()),
        FieldType.SInt32 => IntegerAttr.I64(ZigZag32((uint)input.Varint())),
        FieldType.SInt64 => IntegerAttr.I64(ZigZag64(input.Varint())),
        FieldType.Fixed32 => IntegerAttr.I64(input.Fixed32()),
        FieldType.Fixed64 => IntegerAttr.I64((long)input.Fixed64()),
        FieldType.SFixed32 => IntegerAttr.I64((int)input.Fixed32()),
        FieldType.SFixed64 => IntegerAttr.I64((long)input.Fixed64()),
        FieldType.Enum => (int)input.Varint() is var n && numbers.EnumName(field.Descriptor.EnumType, n) is { } name ? name : IntegerAttr.I64(n),
        FieldType.String => new StringAttr(System.Text.Encoding.UTF8.GetString(input.LengthDelimited())),
        FieldType.Bytes => Bytes(input.LengthDelimited().ToArray()),
        _ => throw new MirException($"field '{field.Name}': unexpected type {field.Type}"),
    };

    private static int ZigZag32(uint n) => (int)(n >> 1) ^ -(int)(n & 1);
    private static long ZigZag64(ulong n) => (long)(n >> 1) ^ -(long)(n & 1);
}
