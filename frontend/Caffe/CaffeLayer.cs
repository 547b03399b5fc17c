using Google.Protobuf;
using Mopt.Caffe.Proto;
using Mopt.Protobuf;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// A LayerParameter as the importer reads it, from its wire bytes: its place in the net (name, type, bottoms, tops),
/// phase, rules and blobs read in one walk; a parameter message parsed only when asked for (the blob checks of a few
/// types). The generated parser made every layer's parameters, fillers and rules as objects, which the import then
/// read from the bytes again. The bytes are well-formed and each singular field is given once (protobuf's encoding of
/// a message, or a prototxt's text transcoded, which refuses a field given twice).
/// </summary>
internal sealed class CaffeLayer
{
    private readonly ReadOnlyMemory<byte> _bytes;
    private List<ReadOnlyMemory<byte>>? _include, _exclude, _blobs;
    private readonly IReadOnlyList<BlobProto>? _blobObjects;

    /// <summary>The layer of <paramref name="bytes"/>, its blobs there or, if given, <paramref name="blobs"/> (a layer encoded without them).</summary>
    private CaffeLayer(ReadOnlyMemory<byte> bytes, IReadOnlyList<BlobProto>? blobs)
    {
        _bytes = bytes;
        _blobObjects = blobs;
        var input = new WireReader(bytes.Span);
        while (!input.AtEnd)
        {
            uint tag = input.Tag();
            var wire = WireFormat.GetTagWireType(tag);
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case LayerParameter.NameFieldNumber when wire == WireFormat.WireType.LengthDelimited: Name = String(ref input); break;
                case LayerParameter.TypeFieldNumber when wire == WireFormat.WireType.LengthDelimited: Type = String(ref input); break;
                case LayerParameter.BottomFieldNumber when wire == WireFormat.WireType.LengthDelimited: Bottom.Add(String(ref input)); break;
                case LayerParameter.TopFieldNumber when wire == WireFormat.WireType.LengthDelimited: Top.Add(String(ref input)); break;
                case LayerParameter.PhaseFieldNumber when wire == WireFormat.WireType.Varint: Phase = (Mopt.Caffe.Proto.Phase)(int)input.Varint(); break;
                case LayerParameter.IncludeFieldNumber when wire == WireFormat.WireType.LengthDelimited: (_include ??= []).Add(Slice(ref input)); break;
                case LayerParameter.ExcludeFieldNumber when wire == WireFormat.WireType.LengthDelimited: (_exclude ??= []).Add(Slice(ref input)); break;
                case LayerParameter.BlobsFieldNumber when wire == WireFormat.WireType.LengthDelimited: (_blobs ??= []).Add(Slice(ref input)); break;
                default: input.Skip(wire); break;
            }
        }
    }

    /// <summary>A layer of a prototxt's transcoded bytes.</summary>
    public static CaffeLayer FromWire(ReadOnlyMemory<byte> bytes) => new(bytes, null);

    /// <summary>A parsed layer (of a caffemodel, or a legacy one upgraded): encoded without its blobs, which are taken as they are.</summary>
    public static CaffeLayer From(LayerParameter layer)
    {
        if (layer.Blobs.Count == 0) return new(layer.ToByteArray(), []);
        var blobs = layer.Blobs.ToArray();
        layer.Blobs.Clear();
        try { return new(layer.ToByteArray(), blobs); }
        finally { layer.Blobs.Add(blobs); }
    }

    /// <summary>The layer's bytes (its blobs left out when it was encoded from a parsed layer).</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;
    public string Name { get; } = "";
    public string Type { get; } = "";
    public List<string> Bottom { get; } = [];
    public List<string> Top { get; } = [];
    /// <summary>The phase the layer gives, or null.</summary>
    public Mopt.Caffe.Proto.Phase? Phase { get; }
    public bool HasRules => _include is not null || _exclude is not null;
    public IReadOnlyList<NetStateRule> Include => Rules(_include);
    public IReadOnlyList<NetStateRule> Exclude => Rules(_exclude);
    public int BlobCount => _blobObjects?.Count ?? _blobs?.Count ?? 0;

    public IReadOnlyList<BlobProto> Blobs()
    {
        if (_blobObjects is not null) return _blobObjects;
        if (_blobs is null) return [];
        var blobs = new List<BlobProto>(_blobs.Count);
        foreach (var blob in _blobs) blobs.Add(BlobProto.Parser.ParseFrom(blob.Span));
        return blobs;
    }

    /// <summary>The parameter message numbered <paramref name="number"/> (its values merged, as protobuf merges them), or its defaults.</summary>
    public T Param<T>(int number, MessageParser<T> parser) where T : IMessage<T>
    {
        T? param = default;
        var input = new WireReader(_bytes.Span);
        while (!input.AtEnd)
        {
            uint tag = input.Tag();
            var wire = WireFormat.GetTagWireType(tag);
            if (WireFormat.GetTagFieldNumber(tag) != number || wire != WireFormat.WireType.LengthDelimited) input.Skip(wire);
            else if (param is null) param = parser.ParseFrom(input.LengthDelimited());
            else param.MergeFrom(input.LengthDelimited());
        }
        // the parser makes the message (a new T() here would be the runtime's Activator)
        return param ?? parser.ParseFrom(ReadOnlySpan<byte>.Empty);
    }

    /// <summary>
    /// The varint fields numbered below 16 (bools, enums, integers) of parameter message <paramref name="number"/>, and
    /// the values of its repeated uint32 field <paramref name="repeated"/> (packed or not), read from the layer's bytes in
    /// one walk: a field or message given again is merged as protobuf merges it (the last value of a field; a repeated
    /// field's values in order). The blob checks read a few numbers so, without making the message and its fillers as
    /// <see cref="Param"/> does (which cost more than the rest of the layer's import).
    /// </summary>
    public ParamScalars Scalars(int number, int repeated = 0)
    {
        var scalars = new ParamScalars();
        var input = new WireReader(_bytes.Span);
        while (!input.AtEnd)
        {
            uint tag = input.Tag();
            var wire = WireFormat.GetTagWireType(tag);
            if (WireFormat.GetTagFieldNumber(tag) != number || wire != WireFormat.WireType.LengthDelimited)
            {
                input.Skip(wire);
                continue;
            }
            var param = new WireReader(input.LengthDelimited());
            while (!param.AtEnd)
            {
                uint inner = param.Tag();
                int field = WireFormat.GetTagFieldNumber(inner);
                var innerWire = WireFormat.GetTagWireType(inner);
                if (field == repeated && innerWire == WireFormat.WireType.Varint) (scalars.Repeated ??= []).Add((uint)param.Varint());
                else if (field == repeated && innerWire == WireFormat.WireType.LengthDelimited)
                {
                    var packed = new WireReader(param.LengthDelimited());
                    scalars.Repeated ??= [];
                    while (!packed.AtEnd) scalars.Repeated.Add((uint)packed.Varint());
                }
                else if (field < ParamScalars.Count && innerWire == WireFormat.WireType.Varint) scalars.Set(field, param.Varint());
                else param.Skip(innerWire);
            }
        }
        return scalars;
    }

    private static List<NetStateRule> Rules(List<ReadOnlyMemory<byte>>? slices)
    {
        var rules = new List<NetStateRule>(slices?.Count ?? 0);
        if (slices is not null)
            foreach (var slice in slices) rules.Add(NetStateRule.Parser.ParseFrom(slice.Span));
        return rules;
    }

    private ReadOnlyMemory<byte> Slice(ref WireReader input)
    {
        int length = input.LengthDelimited().Length;
        return _bytes.Slice(input.Position - length, length);
    }

    private static string String(ref WireReader input) => System.Text.Encoding.UTF8.GetString(input.LengthDelimited());
}
